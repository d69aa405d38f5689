"""The simulated park of `chargepark run --sim N`: its bus medium runs beside the head's loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from chargepark.bus.agent import ControllerAgent
from chargepark.bus.transport import SimTransport
from chargepark.cli import main
from chargepark.config import StoreError
from chargepark.simpark import SimPark, sim_uid


def test_park_modules_answer_over_a_medium_on_its_own_thread(tmp_path: Path) -> None:
    async def scenario() -> None:
        park = SimPark(tmp_path, 2, tmp_path / "config.db", traffic=False)
        try:
            bus = await park.start()
            medium_loop = park.medium_thread.loop
            assert medium_loop is not asyncio.get_running_loop() and medium_loop.is_running()
            transport = await SimTransport.connect(str(bus["endpoint"]))
            try:
                agent = ControllerAgent(transport, [1, 2])
                ids = [await agent.identify(p) for p in (1, 2)]
            finally:
                await transport.close()
            assert [i["uid"] for i in ids] == ["CPSIM0001", "CPSIM0002"]
            assert park.medium.counters.frames > 0  # the frames went through the park's medium
        finally:
            await park.stop()
        assert medium_loop.is_closed()
        assert not any(t.name == "bus-medium" for t in threading.enumerate())

    asyncio.run(scenario())


def test_a_park_that_fails_before_its_medium_starts_stops_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        park = SimPark(tmp_path, 1, tmp_path / "missing" / "config.db", traffic=False)
        with pytest.raises(StoreError):
            await park.start()
        async with asyncio.timeout(5):
            await park.stop()

    asyncio.run(scenario())


def test_park_points_are_configured_like_a_real_station(tmp_path: Path) -> None:
    """The sim board's station configuration (also the firmware tests' FULL): a welded contactor is seen on
    the input the plant wires its auxiliary contact to, RCM self-tests, the meter type has a map."""
    import json

    from chargepark.config.store import ConfigStore
    from chargepark.simpark import ROOT, configure_points
    from iomodule import meters

    configure_points(tmp_path / "config.db", 2)
    store = ConfigStore.open(tmp_path / "config.db")
    try:
        cfg = store.get("chargepoint", "CPSIM0002")
    finally:
        store.close()
    wiring = json.loads((ROOT / "boards" / "sim" / "board.json").read_text())["sim"]
    assert (cfg["contactor_monitoring"], cfg["contactor_input"]) == (wiring["aux_type"], wiring["aux_input"])
    assert cfg["rcm_enabled"] and cfg["temp_sensor"] == "pt1000" and cfg["meter_type"] in meters.MAPS
    assert cfg["release_mode"] == "permanent" and cfg["name"] == "Sim Point 2"


def test_a_second_simulated_head_takes_other_device_uids_and_a_bad_prefix_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (sim_uid(3), sim_uid(3, "CPC")) == ("CPSIM0003", "CPC0003")
    for bad in ("", "cpc", "CP-C", "X" * 17):
        with pytest.raises(ValueError, match="UID prefix"):
            SimPark(tmp_path, 1, tmp_path / "config.db", prefix=bad)
    argv = ["run", "--sim", "1", "--sim-prefix", "CP-C", "--data", str(tmp_path / "data"), "--mqtt-port", "0",
            "--rest-port", "0", "--web-port", "0", "--no-table"]  # fmt: skip
    assert main(argv) == 1
    assert "a simulated UID prefix is 1..16 capital letters or digits, not 'CP-C'" in capsys.readouterr().err

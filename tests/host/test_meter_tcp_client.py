"""The Modbus Client service's meter poller against the simulated Modbus/TCP meter (pymodbus, the same
register map): every higher-level meter type reads back the reading it shows, a silent meter is published
as offline and comes back, and the load circuits with a TCP meter are the targets."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "firmware"))

import meter_case  # noqa: E402
from chargepark.config.store import ConfigStore  # noqa: E402
from chargepark.runtime import free_port  # noqa: E402
from chargepark.services.modbus_client.main import MeterPoller, Target, targets  # noqa: E402
from chargepark.services.modbus_client.reading import FIELDS  # noqa: E402
from chargepark.simmeter import MeterImage, serve_tcp  # noqa: E402
from iomodule import meters  # noqa: E402


@pytest.mark.parametrize("meter_type", sorted(meters.HIGHER_LEVEL))
def test_poller_reads_each_higher_level_type_from_its_simulated_meter(meter_type: str) -> None:
    async def run() -> None:
        port = free_port()
        image = MeterImage(meters.HIGHER_LEVEL[meter_type], unit=7)
        image.show(meter_case.READING)
        server = await serve_tcp(image, "127.0.0.1", port)
        poller = MeterPoller(Target("lc1", "127.0.0.1", meter_type, 7), port=port)
        try:
            msg = await poller.poll()
            assert msg["online"] is True and msg["circuit"] == "lc1" and msg["type"] == meter_type
            got = [msg[f] for f in FIELDS]
            assert meter_case.close_enough(meter_type, got), got
            await server.shutdown()
            assert (await poller.poll())["online"] is False  # the meter fell silent: offline, no raise
            server = await serve_tcp(image, "127.0.0.1", port)
            image.show([v * 2 for v in meter_case.READING])
            msg = await poller.poll()
            assert msg["online"] is True and msg["i1_ma"] == 32000
        finally:
            poller.close()
            await server.shutdown()

    asyncio.run(run())


def test_only_circuits_with_a_tcp_meter_are_read(tmp_path: Path) -> None:
    store = ConfigStore.open(tmp_path / "config.db")
    base = {"name": "C", "fuse_a": 32, "upstream_fuse_a": 63}
    store.put("loadcircuit", dict(base, meter_connection="tcp", meter_ip="192.0.2.7", meter_type="ma370",
                                  meter_modbus_id=3), key="lc1")  # fmt: skip
    store.put("loadcircuit", dict(base, meter_connection="none"), key="lc2")
    store.put("chargepoint", {"name": "P1", "meter_type": "em24"}, key="CPSIM0001")
    store.put("loadcircuit", dict(base, meter_connection="rs485", rs485_point="CPSIM0001"), key="lc3")
    assert targets(store) == [Target("lc1", "192.0.2.7", "ma370", 3)]
    store.close()


def test_the_loadcircuit_meter_types_are_the_higher_level_maps() -> None:
    from chargepark.config.schemas import LOADCIRCUIT

    (field,) = [f for f in LOADCIRCUIT if f.name == "meter_type"]
    assert set(field.choices) == set(meters.HIGHER_LEVEL)

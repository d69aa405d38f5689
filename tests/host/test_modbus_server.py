"""The Modbus server over real TCP with a pymodbus client: block reads, units, writes judged and carried out
through the command path (a stand-in for pointops), charge currents announced to load management (the one
set-point path), refusals counted, the watchdog, random requests."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import chargedefs as cd
import pointconfig
from chargepark import pointops
from chargepark.modbus import server as modbus_server
from chargepark.modbus.control import Control
from chargepark.modbus.datastore import MapStore
from chargepark.modbus.view import ParkView
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymodbus.client import AsyncModbusTcpClient

CFG: dict[str, Any] = {f.name: f.default for f in pointconfig.FIELDS}
LIVE = {"iec_state": cd.STATE_C2, "u1_mv": 230000, "i1_ma": 16000, "power_mw": 3680000, "energy_wh": 777}


class Ops:
    """Stands in for pointops.PointOps: records commands; `refuse` names commands the module refuses."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.refuse: set[str] = set()
        self.offline = False

    async def command(self, uid: str, name: str, value: Any = None) -> None:
        if self.offline:
            raise pointops.PointOffline("away")
        if name in self.refuse:
            raise pointops.PointRefused("no")
        self.sent.append((uid, name, value))

    async def restart(self, uid: str) -> None:
        self.sent.append((uid, "restart", None))


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def park(
    modes: tuple[str, ...] = ("modbus", "permanent", "ocpp"), **modbus: Any
) -> tuple[ParkView, Control, Ops]:
    view = ParkView(host={"designation": "chargepark", "version": "0.1"})
    cfgs = {"CP%d" % n: dict(CFG, release_mode=m) for n, m in enumerate(modes, 1)}
    view.take_config(
        cfgs, dict({"start_addresses": [], "write_clients": [{"address": "127.0.0.1"}]}, **modbus)
    )
    for n in range(1, len(modes) + 1):
        view.take_live("CP%d" % n, dict(LIVE, position=n))
    ops = Ops()
    heads: list[int] = []

    async def restart_head() -> None:
        heads.append(1)

    currents: list[tuple[str, int]] = []
    control = Control(
        view, ops, restart_head, Clock(), announce_current=lambda u, ma: currents.append((u, ma))
    )
    control.heads = heads  # type: ignore[attr-defined]
    control.currents = currents  # type: ignore[attr-defined]
    return view, control, ops


Body = Callable[[AsyncModbusTcpClient, Control], Awaitable[None]]


def serve(control: Control, body: Body) -> None:
    async def go() -> None:
        server = await modbus_server.start(MapStore(control.view, control), "127.0.0.1", 0)
        client = AsyncModbusTcpClient("127.0.0.1", port=server.port, retries=0, timeout=3)
        await client.connect()
        try:
            await body(client, control)
        finally:
            client.close()
            await server.shutdown()

    asyncio.run(go())


def test_block_reads_of_existing_clients_and_fc03_equals_fc04() -> None:
    view, control, _ = park()

    async def body(c: AsyncModbusTcpClient, _: Control) -> None:
        for unit in (1, 255):
            group = await c.read_holding_registers(100, count=68, device_id=unit)
            assert group.registers == view.image[100:168]
            assert (await c.read_input_registers(100, count=68, device_id=unit)).registers == group.registers
            for start in (1000, 2000, 3000):
                cfgb = await c.read_holding_registers(start + 100, count=24, device_id=unit)
                status = await c.read_input_registers(start + 232, count=77, device_id=unit)
                assert cfgb.registers == view.image[start + 100 : start + 124]
                assert status.registers == view.image[start + 232 : start + 309]
        assert (await c.read_holding_registers(114, count=1, device_id=1)).registers == [3]
        assert (await c.read_holding_registers(1238, count=2, device_id=1)).registers == [0, 16000]

    serve(control, body)


def test_other_units_gaps_absent_blocks_and_coils_get_exceptions() -> None:
    _, control, _ = park()

    async def body(c: AsyncModbusTcpClient, _: Control) -> None:
        r = await c.read_holding_registers(100, count=10, device_id=7)
        assert r.isError() and r.exception_code == 0x0B
        assert (await c.read_holding_registers(0, count=1, device_id=1)).exception_code == 2
        assert (await c.read_holding_registers(1124, count=1, device_id=1)).exception_code == 2  # gap
        assert (await c.read_holding_registers(4232, count=2, device_id=1)).exception_code == 2  # no point
        assert (await c.read_coils(1300, count=1, device_id=1)).exception_code == 1

    serve(control, body)


def test_x301_limits_pauses_and_refuses_other_values_in_every_release_mode() -> None:
    _, control, ops = park()

    async def body(c: AsyncModbusTcpClient, _: Control) -> None:
        for start, uid in ((1000, "CP1"), (2000, "CP2"), (3000, "CP3")):
            assert not (await c.write_register(start + 301, 10, device_id=1)).isError()
            assert not (await c.write_registers(start + 301, [0], device_id=255)).isError()  # evcc: FC16
            for bad in (1, 5, 81, 65535):
                assert (await c.write_register(start + 301, bad, device_id=1)).exception_code == 3
            assert (await c.read_holding_registers(start + 301, count=1, device_id=1)).registers == [0]
            assert [s for s in control.currents if s[0] == uid] == [(uid, 10000), (uid, 0)]  # type: ignore[attr-defined]
        assert not any(name == "setpoint_ma" for _, name, _ in ops.sent)  # load management sends it

    serve(control, body)
    assert sum(control.refused.values()) == 12


def test_wrong_release_mode_writes_are_refused_and_change_nothing() -> None:
    view, control, ops = park()

    async def body(c: AsyncModbusTcpClient, _: Control) -> None:
        before = list(view.image)
        for start in (2000, 3000):  # permanent, ocpp
            assert (await c.write_register(start + 300, 1, device_id=1)).exception_code == 1
            assert (await c.write_register(start + 304, 0, device_id=1)).exception_code == 1
        assert (await c.write_register(164, 0, device_id=1)).exception_code == 1  # not all in modbus
        assert view.image == before and ops.sent == []
        assert not (await c.write_register(1300, 1, device_id=1)).isError()
        assert not (await c.write_register(1304, 0, device_id=1)).isError()
        assert ops.sent == [("CP1", "release", True), ("CP1", "available", False)]

    serve(control, body)
    assert control.refused["127.0.0.1"] == 5


def test_writes_need_the_allow_list_and_resets_need_enabling() -> None:
    _, control, ops = park(write_clients=[])

    async def body(c: AsyncModbusTcpClient, ctl: Control) -> None:
        assert (await c.write_register(1301, 10, device_id=1)).exception_code == 1
        ctl.view.modbus["write_clients"] = [{"address": "127.0.0.0/8"}]
        assert (await c.write_register(165, 1, device_id=1)).exception_code == 1
        assert (await c.write_register(166, 1, device_id=1)).exception_code == 1
        assert (await c.write_register(1232, 1, device_id=1)).exception_code == 2  # read-only
        ctl.view.modbus["resets_enabled"] = True
        assert not (await c.write_register(166, 1, device_id=1)).isError()
        await asyncio.sleep(0.4)

    serve(control, body)
    assert [s for s in ops.sent if s[1] == "restart"] == [("CP1", "restart", None), ("CP2", "restart", None),
                                                          ("CP3", "restart", None)]  # fmt: skip
    assert control.heads == [1]  # type: ignore[attr-defined]
    assert control.refused["127.0.0.1"] == 4


def test_a_point_that_refuses_or_is_away_answers_04_or_0b() -> None:
    _, control, ops = park()

    async def body(c: AsyncModbusTcpClient, _: Control) -> None:
        ops.refuse.add("enforce_unlock")
        assert (await c.write_register(1305, 1, device_id=1)).exception_code == 4
        ops.offline = True
        assert (await c.write_register(1300, 1, device_id=1)).exception_code == 0x0B
        control.view.point("CP1").snap["online"] = False  # the charge current is announced, not sent: the
        assert (await c.write_register(1301, 16, device_id=1)).exception_code == 0x0B  # view knows it away
        assert (await c.read_holding_registers(1301, count=1, device_id=1)).registers == [16]  # unchanged

    serve(control, body)


def test_the_watchdog_falls_back_to_x306_and_keeps_the_release() -> None:
    _, control, ops = park()
    clock = control.clock
    assert isinstance(clock, Clock)

    async def body(c: AsyncModbusTcpClient, ctl: Control) -> None:
        await c.write_register(1301, 32, device_id=1)
        await c.write_register(1306, 8, device_id=1)
        await c.write_register(1307, 10, device_id=1)
        clock.now += 9
        await ctl.check_watchdogs()
        await c.write_register(1307, 10, device_id=1)  # kept alive
        clock.now += 9
        await ctl.check_watchdogs()
        assert [ma for _, ma in ctl.currents] == [32000]  # type: ignore[attr-defined]  # not yet expired
        clock.now += 2
        await ctl.check_watchdogs()
        assert (await c.read_holding_registers(1301, count=1, device_id=1)).registers == [8]
        assert (await c.read_holding_registers(1306, count=2, device_id=1)).registers == [8, 10]

    serve(control, body)
    setpoints = [ma for _, ma in control.currents]  # type: ignore[attr-defined]
    assert setpoints == [32000, 8000]  # once, at expiry; no release command
    assert not any(name == "release" for _, name, _ in ops.sent)


def test_the_watchdog_pair_is_the_control_areas_and_x301_keeps_it_alive() -> None:
    """X306/X307 read and write the point's control record (JupiCore's /load-management-config is the
    same record); a stored pair shows without a Modbus write, and X301 writes restart the timer."""
    view, control, _ = park()
    view.take_config(
        view.configs,
        view.modbus,
        {"CP1": dict(view.control("CP1"), watchdog_current_a=9, watchdog_timer_s=20)},
    )
    saved: list[tuple[str, dict[str, Any]]] = []
    keep = control.save_control

    def save(uid: str, fields: dict[str, Any]) -> None:
        saved.append((uid, fields))
        keep(uid, fields)

    control.save_control = save
    clock = control.clock
    assert isinstance(clock, Clock)

    async def body(c: AsyncModbusTcpClient, ctl: Control) -> None:
        assert (await c.read_holding_registers(1306, count=2, device_id=1)).registers == [9, 20]
        await c.write_register(1301, 16, device_id=1)  # arms the stored 20 s
        clock.now += 15
        await c.write_register(1301, 16, device_id=1)  # an energy manager writing its current keeps it alive
        clock.now += 15
        await ctl.check_watchdogs()
        assert [ma for _, ma in ctl.currents] == [16000, 16000]  # type: ignore[attr-defined]
        await c.write_register(1306, 7, device_id=1)
        clock.now += 6
        await ctl.check_watchdogs()
        assert (await c.read_holding_registers(1301, count=1, device_id=1)).registers == [7]

    serve(control, body)
    assert saved == [("CP1", {"watchdog_current_a": 7})]
    assert view.control("CP1")["watchdog_current_a"] == 7


def _raw_request(port: int, pdu: bytes, unit: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(struct.pack(">HHHB", 1, 0, len(pdu) + 1, unit) + pdu)
        s.settimeout(0.5)
        try:
            return s.recv(300)
        except TimeoutError:
            return b""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 255),  # function code
            st.integers(0, 65535),  # address
            st.integers(0, 300),  # count
            st.integers(0, 65535),  # value
            st.sampled_from([0, 1, 2, 255]),  # unit
            st.binary(max_size=8),  # trailing junk
        ),
        min_size=1,
        max_size=8,
    )
)
def test_random_requests_never_crash_the_server(
    requests: list[tuple[int, int, int, int, int, bytes]],
) -> None:
    view, control, _ = park()

    async def go() -> None:
        server = await modbus_server.start(MapStore(view, control), "127.0.0.1", 0)
        try:
            for fc, address, count, value, unit, junk in requests:
                pdu = struct.pack(">BHH", fc, address, count if fc not in (5, 6) else value) + junk
                await asyncio.to_thread(_raw_request, server.port, pdu, unit)
            client = AsyncModbusTcpClient("127.0.0.1", port=server.port, retries=0, timeout=3)
            await client.connect()
            r = await client.read_holding_registers(1232, count=77, device_id=1)
            client.close()
            assert r.registers == view.image[1232:1309]  # still answering, correctly
        finally:
            await server.shutdown()

    asyncio.run(go())

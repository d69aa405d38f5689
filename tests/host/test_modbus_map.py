"""The Modbus register map: the one table (no overlaps, the reference's addresses and windows), its
encodings, the values it shows from a live sample, and the generated doc."""

from __future__ import annotations

from typing import Any

import chargedefs as cd
import pointconfig
from chargepark.modbus import docs
from chargepark.modbus.encode import decode, encode
from chargepark.modbus.registers import GROUP, METER_CODES, POINT, Reg
from chargepark.modbus.view import ParkView

POSITION = next(r for r in POINT if r.name == "position")

CFG: dict[str, Any] = {f.name: f.default for f in pointconfig.FIELDS}
SNAP: dict[str, Any] = {
    "position": 2, "iec_state": cd.STATE_C2, "status": cd.ST_CHARGING, "error_bits": cd.ERR_METER_COMM,
    "set_current_ma": 16000, "duty_permille": 267, "cable_ma": 32000, "release": 1, "available": 1,
    "lock_state": cd.LOCK_LOCKED, "u1_mv": 230100, "u2_mv": 229900, "u3_mv": 231000, "i1_ma": 15900,
    "i2_ma": 15800, "i3_ma": 16100, "power_mw": 11000000, "energy_wh": 5_000_000_123, "session_wh": 4321,
    "connected_s": 100, "charging_s": 90, "inputs": 0b0101, "outputs": 0x0162, "flags": 0,
}  # fmt: skip


def words_of(view: ParkView, address: int, reg: Reg) -> Any:
    regs = view.words(address, reg.size)
    assert regs is not None, reg.name
    return decode(reg.kind, regs)


def test_rows_do_not_overlap_and_cover_the_windows_clients_read() -> None:
    for rows in (GROUP, POINT):
        ends = 0
        for r in sorted(rows, key=lambda r: r.at):
            assert r.at >= ends, r.name
            ends = r.at + r.size
        assert len({r.name for r in rows}) == len(rows)
    covered = lambda rows: {a for r in rows for a in range(r.at, r.at + r.size)}  # noqa: E731
    assert set(range(100, 168)) <= covered(GROUP)  # [AIO] 100 + 68
    assert set(range(100, 124)) | set(range(232, 309)) <= covered(POINT)  # x100 + 24, x232 + 77


def test_reference_addresses_and_types_clients_rely_on() -> None:
    by = {r.at: r for r in POINT}
    assert (by[299].kind, by[299].size) == ("ascii", 1)
    assert (by[250].kind, by[289].kind, by[293].kind) == ("uint64", "uint64", "uint32")
    assert by[244].kind == "int32" and by[238].kind == "int32"
    assert by[301].accept == ((0, 0), (6, 80)) and by[301].modes == ()
    assert by[300].modes == ("modbus",) and by[304].modes == ("modbus",)
    assert {r.at for r in POINT if r.write} == set(range(300, 309))
    assert {r.at for r in GROUP if r.write} == {164, 165, 166, 167}
    assert all(r.accept for rows in (GROUP, POINT) for r in rows if r.write)


def test_meter_codes_name_real_meter_types() -> None:
    assert set(METER_CODES) <= set(pointconfig.METER_TYPES)


def test_encodings_are_big_endian_msw_first() -> None:
    assert encode("uint32", 0x12345678, 2) == [0x1234, 0x5678]
    assert encode("int32", -1, 2) == [0xFFFF, 0xFFFF]
    assert encode("uint64", 5_000_000_123, 4) == [0, 1, 0x2A05, 0xF27B]
    assert encode("ascii", "C2", 1) == [0x4332]
    assert encode("ascii", "1.9", 2) == [0x312E, 0x3900]
    assert encode("mac", "00:a0:45:01:02:03", 3) == [0x00A0, 0x4501, 0x0203]
    assert encode("ipv4", "192.168.0.7", 4) == [192, 168, 0, 7]
    assert encode("uint16", 70000, 1) == [65535] and encode("uint32", -5, 2) == [0, 0]


def test_a_live_sample_shows_in_the_point_block_and_the_group() -> None:
    view = ParkView(host={"designation": "chargepark", "version": "0.1"})
    view.take_config({"CP2": dict(CFG, meter_type="em24", release_mode="modbus")}, {"start_addresses": []})
    view.take_live("CP2", SNAP)
    view.take_rfid("CP2", "04A1B2C3")
    start = 2000
    by = {r.at: r for r in POINT}
    expect = {
        232: 230100, 238: 15900, 244: 11000000, 250: 5_000_000_123, 289: 4321, 285: 100, 287: 90,
        293: cd.ERR_METER_COMM, 295: 5, 296: 26, 297: 16, 298: 32, 299: "C2", 300: 1, 301: 16,
        303: 1, 304: 1, 305: 0, 307: 65535, 101: 16, 112: 3, 113: "CP2", 119: 2, 120: 5, 275: "04A1B2C3",
        302: 0x1200,  # live OUTPUT_MODES floating, bus, high, low -> X302 0 floating, 0, 2 high, 1 low
    }  # fmt: skip
    got = {off: words_of(view, start + off, by[off]) for off in expect}
    assert got == expect
    g = {r.at: r for r in GROUP}
    assert words_of(view, 114, g[114]) == 1 and words_of(view, 151, g[151]) == 1
    assert words_of(view, 152, g[152]) == 11000000
    assert words_of(view, 158, g[158]) == -1  # a metered point with an unknown phase rotation
    assert words_of(view, 100, g[100]) == "chargepark"
    view.take_config({"CP2": dict(CFG, meter_type="em24", phase_rotation="L1L2L3")}, {"start_addresses": []})
    assert words_of(view, 158, g[158]) == 15900


def test_the_iec_state_before_a_sample_and_for_e_and_f() -> None:
    view = ParkView(host={})
    view.take_live("CP1", {"position": 1})
    assert view.words(1299, 1) == encode("ascii", "IN", 1)
    view.take_live("CP1", {"position": 1, "iec_state": cd.STATE_F})
    assert view.words(1299, 1) == encode("ascii", "F0", 1)


def test_start_addresses_manual_excludes_automatic_points() -> None:
    view = ParkView(host={})
    for n in (1, 2, 3):
        view.take_live("CP%d" % n, {"position": n})
    assert view.starts == {"CP1": 1000, "CP2": 2000, "CP3": 3000}
    view.take_config({}, {"start_addresses": [{"uid": "CP3", "start": 7000}, {"uid": "CP1", "start": 5000}]})
    assert view.starts == {"CP3": 7000, "CP1": 5000}
    assert view.words(2232, 2) is None and view.words(7232, 2) is not None
    assert view.words(3299, 1) is None


def test_the_module_list_lays_out_blocks_before_the_first_live_sample() -> None:
    view = ParkView(host={})  # a restarted server: the retained module list arrives, no live sample yet
    view.take_config({}, {"start_addresses": [{"uid": "CP1", "start": 5000}, {"uid": "CP2", "start": 7000}]})
    view.take_modules("STATION", {"CP1": 1, "CP2": 2})
    assert view.starts == {"CP1": 5000, "CP2": 7000}
    assert view.words(7000 + POSITION.at, 1) == encode("uint16", 2, 1)
    view.take_live("CP2", {"position": 2, "iec_state": cd.STATE_F})
    assert view.words(7299, 1) == encode("ascii", "F0", 1)


def test_the_register_doc_is_generated_from_the_table() -> None:
    assert docs.DOC.read_text() == docs.render(), "stale: run python -m chargepark.modbus.docs"


def test_the_group_phase_currents_follow_each_points_phase_rotation() -> None:
    view = ParkView(host={})
    one_phase = dict(SNAP, i1_ma=10000, i2_ma=0, i3_ma=0)  # a single-phase car on the connector's L1
    view.take_live("CP1", dict(one_phase, position=1))
    view.take_live("CP2", dict(one_phase, position=2))
    view.take_config({"CP1": dict(CFG, meter_type="em24", phase_rotation="L1L2L3"),
                      "CP2": dict(CFG, meter_type="em24", phase_rotation="L2L3L1")}, {"start_addresses": []})  # fmt: skip
    g = {r.at: r for r in GROUP}
    # CP2's connector L1 is wired to grid L2: the grid phases carry 10 A each on L1 and L2, none on L3
    assert [words_of(view, a, g[a]) for a in (158, 160, 162)] == [10000, 10000, 0]

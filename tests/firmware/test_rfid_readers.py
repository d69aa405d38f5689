"""RFID readers on the real micropython binary: each reader type reads a card from its simulated reader's
bytes (simboard/rfidsim.py), a card is reported once, garbage and silence raise nothing and set the "RFID
reader error" bit, and the OCPP byte/character order changes how a UID is rendered."""

import chargedefs as d
import pytest
from simpoint import FULL, SimPoint, has_error

READERS = ("twn4", "mde950", "uw_xeu1", "charx")
POLLED = ("twn4", "mde950", "charx")


def reads(sim):
    return [arg for name, arg in sim.events() if name == "rfid_read"]


@pytest.mark.parametrize("reader", READERS)
def test_each_reader_reads_a_card_from_its_bytes_once(micropython, mpy_procs, tmp_path, reader):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, rfid_reader_type=reader))
    sim.step(1000)
    assert reads(sim) == []
    sim.q("rfid", tag="04A1B2C3D4E5F6", hold_ms=3000)  # held over several polls: one presentation
    sim.step(3500)
    assert reads(sim) == ["04A1B2C3D4E5F6"]
    rfid = sim.q("state")["rfid"]
    assert rfid["type"] == reader and rfid["card"] == ""
    if reader in POLLED:
        assert rfid["requests"] >= 10  # the driver polled (250 ms or faster) and the reader answered
    sim.q("rfid", tag="11223344")
    sim.step(1500)
    assert reads(sim) == ["11223344"]
    assert not has_error(sim.state(), d.ERR_RFID_READER)


def test_the_same_card_again_is_a_new_presentation(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, rfid_reader_type="twn4"))
    for _ in range(2):
        sim.q("rfid", tag="0A0B0C0D", hold_ms=500)
        sim.step(1000)
    assert reads(sim) == ["0A0B0C0D", "0A0B0C0D"]


@pytest.mark.parametrize("reader", POLLED)
@pytest.mark.parametrize("fault", ["rfid_silent", "rfid_garbage"])
def test_a_silent_or_garbling_reader_raises_nothing_and_is_reported(
    micropython, mpy_procs, tmp_path, reader, fault
):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, rfid_reader_type=reader))
    sim.step(1000)
    assert not has_error(sim.state(), d.ERR_RFID_READER)
    sim.fault(fault)
    sim.q("rfid", tag="04A1B2C3")
    sim.until(lambda s: has_error(s, d.ERR_RFID_READER), 2000, "RFID reader error")
    sim.step(1000)
    s = sim.state()
    events = sim.events()
    assert has_error(s, d.ERR_RFID_READER) and ["error_new", d.ERR_RFID_READER] in events  # reported
    assert not [e for e in events if e[0] == "rfid_read"]
    assert s["error_bits"] & ~d.ERR_RFID_READER == 0  # info only: the point keeps working
    sim.fault(fault, False)
    sim.until(lambda s: not has_error(s, d.ERR_RFID_READER), 1000, "reader back")
    sim.q("rfid", tag="04A1B2C3")
    sim.step(1000)
    assert reads(sim) == ["04A1B2C3"]
    assert sim.proc.poll() is None  # the module is still running


def test_a_push_reader_that_garbles_is_reported(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, rfid_reader_type="uw_xeu1"))
    sim.fault("rfid_garbage")
    for tag in ("01020304", "05060708"):
        sim.q("rfid", tag=tag)
        sim.step(1200)
    assert has_error(sim.state(), d.ERR_RFID_READER) and reads(sim) == []
    sim.fault("rfid_garbage", False)
    sim.q("rfid", tag="0A0B0C0D")
    sim.step(500)
    assert reads(sim) == ["0A0B0C0D"] and not has_error(sim.state(), d.ERR_RFID_READER)


@pytest.mark.parametrize(
    ("order", "swap", "seen"),
    [("BE", False, "04A1B2C3D4"), ("LE", False, "D4C3B2A104"), ("BE", True, "A104C3B2D4"),
     ("LE", True, "C3D4A1B204")],
)  # fmt: skip
def test_byte_and_character_order_render_the_uid(micropython, mpy_procs, tmp_path, order, swap, seen):
    cfg = dict(FULL, rfid_reader_type="mde950", rfid_byte_order=order, rfid_char_order=swap)
    sim = SimPoint(micropython, mpy_procs, tmp_path, cfg)
    sim.q("rfid", tag="04A1B2C3D4")
    sim.step(1000)
    assert reads(sim) == [seen]


def test_a_uid_that_is_no_hex_is_refused(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, FULL)
    for tag in ("XYZ1", "123"):
        reply = sim.request("rfid", tag=tag)
        assert not reply["ok"] and "hex" in reply["error"]


def shown(sim):
    return sim.q("state")["rfid"]["display"]


def test_the_charx_board_shows_the_states_profile_and_each_verdict_for_a_second(
    micropython, mpy_procs, tmp_path
):
    ready = {"mode": "fade", "colour": "blue", "brightness": 80, "period_ms": 2500, "min_brightness": 10,
             "max_brightness": 90}  # fmt: skip
    cfg = dict(FULL, rfid_reader_type="charx", release_mode="whitelist", rfid_buzzer_volume=70,
               rfid_profiles=[{"mode": "off"}, ready])  # fmt: skip
    sim = SimPoint(micropython, mpy_procs, tmp_path, cfg)
    sim.step(500)
    assert shown(sim) == dict(ready, profile="ready", tone="none", volume=70)
    assert ["rfid_board", "1.4"] in sim.events()  # the board's firmware version, for the WBM
    sim.q("rfid", tag="04A1B2C3")
    sim.step(300)
    assert reads(sim) == ["04A1B2C3"]
    look = shown(sim)
    assert look["profile"] == "authorization_ongoing" and look["tone"] == "read"  # the head decides
    sim.command("rfid", ["04A1B2C3", True])
    sim.step(300)
    look = shown(sim)
    assert (look["profile"], look["colour"], look["mode"], look["tone"]) == (
        "accepted",
        "green",
        "on",
        "accepted",
    )
    sim.step(600)
    assert shown(sim)["profile"] == "accepted"
    sim.step(200)
    assert shown(sim)["profile"] == "ready" and shown(sim)["tone"] == "none"  # one second, then the state
    sim.command("rfid", ["04A1B2C3", False])
    sim.step(100)
    look = shown(sim)
    assert (look["profile"], look["colour"], look["tone"]) == ("denied", "red", "denied")
    sim.step(1000)
    sim.command("teach_wait", True)  # the head's teach-in waits for a card at this reader
    sim.step(100)
    assert shown(sim)["profile"] == "teach_waiting"
    sim.command("teach_wait", False)
    sim.step(100)
    assert shown(sim)["profile"] == "ready"


@pytest.mark.parametrize(
    ("connection", "ocpp", "profile", "mode"),
    [("1:1", False, "ready", "on"), ("1:n", False, "ready", "off"), ("standalone", False, "ready", "on"),
     ("1:1", True, "backend_offline_available", "flashing"), ("1:n", True, "offline", "flashing"),
     ("standalone", True, "backend_offline_available", "off")],
)  # fmt: skip
def test_a_connection_type_shows_only_its_profiles(
    micropython, mpy_procs, tmp_path, connection, ocpp, profile, mode
):
    cfg = dict(FULL, rfid_reader_type="charx", rfid_board_connection=connection,
               release_mode="ocpp" if ocpp else "whitelist")  # fmt: skip
    sim = SimPoint(micropython, mpy_procs, tmp_path, cfg)
    sim.step(500)
    look = shown(sim)
    assert (look["profile"], look["mode"]) == (profile, mode)
    if ocpp and connection == "1:1":
        sim.command("backend", True)
        sim.step(300)
        assert shown(sim)["profile"] == "backend_online_available"

"""What releases a point on the module (real micropython binary, simulated time): an Event Action that
switches the charging release only in release mode Via Remote Control (refused with config_refused in
every other mode), and "Authorization Request ongoing" while the head decides on a card read here."""

import chargedefs as d
import pointconfig
import pytest
from iomodule.point import AUTH_WAIT_MS
from simpoint import FULL, SimPoint

BUTTON = {  # the manual's example: charging release by a button at digital input 1
    "event": "di_rising",
    "event_input": 1,
    "action": "enable_charging",
    "switch": "enable",
    "condition": "active",
    "timer_ms": 0,
}


@pytest.mark.parametrize("mode", d.RELEASE_MODES)
def test_an_event_action_release_only_in_release_mode_remote(micropython, mpy_procs, tmp_path, mode):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, release_mode=mode))
    before = sim.state()
    sim.events()  # only what the new configuration causes from here on
    reply = sim.request("configure", config=dict(FULL, release_mode=mode, event_actions=[BUTTON]))
    if mode in pointconfig.EA_RELEASE_MODES:
        assert reply["ok"], reply
        sim.q("plug", cable_a=32)
        sim.q("charge")
        sim.step(1500)
        assert sim.state()["contactor"] == 0  # no release before the button
        sim.q("set", di=[1, 0, 0, 0])
        sim.until(lambda s: s["contactor"] == 1, 3000, "released by the Event Action")
        return
    assert not reply["ok"]
    why = reply["errors"]["event_actions[0].switch"]
    assert "release mode remote" in why and mode in why, why
    refused = [arg for name, arg in sim.events() if name == "config_refused"]
    assert refused and "event_actions[0].switch" in refused[0], refused
    after = sim.state()
    assert after["config_checksum"] == before["config_checksum"]  # the old configuration holds
    assert after["config_version"] == before["config_version"]


@pytest.mark.parametrize("switch", ["disable", "bus"])
def test_withdrawing_by_event_action_is_a_release_path_too_but_bus_is_none(
    micropython, mpy_procs, tmp_path, switch
):
    """Permanent cannot be withdrawn by an Event Action; "bus" (the head's release) is allowed anywhere."""
    sim = SimPoint(micropython, mpy_procs, tmp_path)
    rule = dict(BUTTON, switch=switch)
    reply = sim.request("configure", config=dict(FULL, release_mode="permanent", event_actions=[rule]))
    assert reply["ok"] == (switch == "bus"), reply


# Output 1 follows the Event Action condition "Authorization Request ongoing" (as the plant sees the pin).
ONGOING_LED = {
    "event": "always",
    "action": "do_high",
    "action_output": 1,
    "condition": "auth_ongoing",
    "timer_ms": 10,
}


def ongoing(sim):
    """The flag, once the Event Action had its ticks to follow it (it sees the previous tick's flags)."""
    sim.step(30)
    s = sim.state()
    on = bool(s["flags"] & d.FLAG_AUTH_ONGOING)
    assert sim.plant()["outputs"][0] == (1 if on else 0), "the Event Action condition disagrees with the flag"
    return on


def present(sim, tag):
    """A card at the simulated reader, read by the driver; returns the simulated time it was read."""
    sim.events()
    sim.q("rfid", tag=tag, hold_ms=300)
    sim.until(lambda s: s["flags"] & d.FLAG_AUTH_ONGOING, 1000, "the card read")
    read_at = sim.now
    assert ["rfid_read", tag] in sim.events()
    sim.step(700)  # the card leaves the field: the next presentation is a new one
    assert ongoing(sim)
    return read_at


@pytest.mark.parametrize(
    "decision",
    [
        ("rfid", ["04A1B2C3", True]),  # the whitelist verdict for this point: released
        ("rfid", ["04A1B2C3", False]),  # denied
        ("rfid_decided", "accepted"),  # another point of this reader took the card
        ("rfid_decided", "none"),  # only recorded (no point of the reader decides by whitelist)
        ("teach", "in_ok"),  # an armed teach-in took it
        ("release", True),  # the OCPP service's answer: the backend accepted it
    ],
    ids=lambda v: "%s-%s" % v,
)
def test_authorization_request_ongoing_until_the_heads_decision(micropython, mpy_procs, tmp_path, decision):
    cfg = dict(
        FULL, release_mode="whitelist", outputs=[{"mode": "low", "duty": 50}], event_actions=[ONGOING_LED]
    )
    sim = SimPoint(micropython, mpy_procs, tmp_path, cfg)
    assert not ongoing(sim)
    present(sim, "04A1B2C3")
    sim.step(2000)
    assert ongoing(sim)  # the head takes its time: still asking
    sim.command(*decision)
    sim.step(20)
    assert not ongoing(sim)
    sim.step(AUTH_WAIT_MS)
    assert not ongoing(sim)  # and stays decided


def test_without_a_decision_it_falls_back_after_its_wait(micropython, mpy_procs, tmp_path):
    """The head is gone (nothing answers the card): the condition does not stay true."""
    cfg = dict(
        FULL, release_mode="whitelist", outputs=[{"mode": "low", "duty": 50}], event_actions=[ONGOING_LED]
    )
    sim = SimPoint(micropython, mpy_procs, tmp_path, cfg)
    read_at = present(sim, "0BADCAFE")
    sim.until(lambda s: not s["flags"] & d.FLAG_AUTH_ONGOING, AUTH_WAIT_MS, "the wait over")
    assert AUTH_WAIT_MS - 10 <= sim.now - read_at <= AUTH_WAIT_MS + 10
    assert not ongoing(sim)
    sim.step(1000)
    assert not ongoing(sim) and sim.state()["release"] == 0  # nothing was released on the way


def test_a_card_release_for_a_connected_vehicle_ends_with_its_session(micropython, mpy_procs, tmp_path):
    """The RFID timeout is for a release no vehicle takes up: with the vehicle already there the release
    is the session's, and unplugging ends it at once (not after rfid_timeout_s)."""
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, release_mode="whitelist", rfid_timeout_s=60))
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.until(lambda s: d.STATUSES[s["status"]] == "SuspendedEVSE", 3000, "the EV waits for its release")
    sim.command("rfid", ["04A1B2C3", True])
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging")
    sim.q("unplug")
    sim.until(lambda s: s["release"] == 0, 200, "the release ends with the session")

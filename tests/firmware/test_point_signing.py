"""A point whose meter signs (calibration law), through the point on the real micropython binary and on
CPython: the simulated board's meter line carries a signing meter (meter_case.SigningScript); the point
reports the meter's public key once (event meter_key), starts the meter's transaction at the session's
start and stops it at its end, and reports the OCMF record after session_stop (event meter_signed,
[session id, record, 0]); a remote stop (the release taken back, the vehicle still plugged in) stops the
meter's transaction then, and its record comes before the session's end. (That polling a signing meter allocates nothing between session edges is
test_meter_codec's allocation check, which covers every map.)"""

import json

import pytest
from simpoint import FULL, ROOT

HERE = ROOT / "tests" / "firmware"
BOARD = ROOT / "boards" / "sim" / "board.json"

SCRIPT = """
import json
import chargedefs as d
import meter_case
from iomodule import meters
from simboard.runner import SimBoard

sb = SimBoard(json.load(open(%r)), True)
mp = meters.MAPS["wm3m4"]
regs = meters.encode(mp, meter_case.READING)
meter = meter_case.SigningScript(1, regs)
sb.hal.meter_line(meter, 19200)
sb.point.configure(%s)
t = 0
def run(ms):
    global t
    end = t + ms
    while t < end:
        t += 10
        sb.tick(t)
events = []
def drain():
    while True:
        ev = sb.point.pop_event()
        if ev is None:
            break
        if ev[0] in (d.EV_METER_KEY, d.EV_SESSION_START, d.EV_SESSION_STOP, d.EV_METER_SIGNED):
            events.append([d.EVENTS[ev[0]], ev[1]])
run(3000)
sb.point.command("release", True)
sb.plant.plug(32, True)
run(3000)
state_after_start = regs[meter_case.SIGNING["state"]]
if %r:  # a remote stop: the release taken back while the vehicle stays
    sb.point.command("release", False)
    run(3000)
    drain()
    events.append(["stopped remotely", regs[meter_case.SIGNING["state"]]])
sb.plant.unplug()
run(3000)
drain()
print(json.dumps({"active": state_after_start, "commands": meter.commands,
                  "state": regs[meter_case.SIGNING["state"]], "events": events}))
"""


def script(remote_stop=False):
    cfg = dict(FULL, meter_type="wm3m4", release_mode="dashboard")
    return SCRIPT % (
        str(BOARD),
        json.dumps(cfg).replace("true", "True").replace("false", "False"),
        remote_stop,
    )


def check(out, remote_stop=False):
    from binascii import hexlify

    import meter_case
    from iomodule import meters

    sg = meter_case.SIGNING
    assert out["active"] == 1 and out["state"] == 0
    assert out["commands"] == [sg["start"], sg["stop"]]
    names = [e[0] for e in out["events"]]
    if remote_stop:  # the record comes when the release is taken back, the session ends at unplug
        assert names == ["meter_key", "session_start", "meter_signed", "stopped remotely", "session_stop"], (
            names
        )
        assert out["events"][3][1] == 0  # the meter's transaction ended with the release
        out["events"][2:5] = [out["events"][4], out["events"][2]]
    else:
        assert names == ["meter_key", "session_start", "session_stop", "meter_signed"], names
    key = meters.KEY_PREFIX + "".join("%04X" % (0x0100 + i) for i in range(sg["key_regs"]))
    assert out["events"][0][1] == key
    session = out["events"][1][1][0]
    sd = hexlify(meter_case.SIG).decode().upper()
    record = "OCMF|" + meter_case.PAYLOAD + '|{"SA":"ECDSA-secp256r1-SHA256","SD":"' + sd + '"}'
    assert out["events"][3][1] == [session, record, 0]


@pytest.mark.parametrize("remote_stop", [False, True])
def test_on_micropython(micropython, remote_stop):
    out = json.loads(micropython.run(script(remote_stop), extra_path=[HERE]))
    check(out, remote_stop)


@pytest.mark.parametrize("remote_stop", [False, True])
def test_on_cpython(remote_stop):
    import contextlib
    import io
    import sys

    sys.path.insert(0, str(HERE))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(script(remote_stop), {})
    check(json.loads(buf.getvalue()), remote_stop)

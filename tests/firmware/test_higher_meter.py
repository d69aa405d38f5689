"""A load circuit's higher-level meter on a point's RS-485 line, through the point and its bus answer, on
the real micropython binary and on CPython: the module field `higher_meter` makes the simulated board's
meter line read a second meter of the point's type at unit 2 beside the point's own; the bus message
`higher_meter` answers its state and reading; a lost higher-level meter is reported lost without touching
the point's own meter (no error bit 25); the point's meter is identified once (event meter_ident)."""

import json

from simpoint import FULL, ROOT

HERE = ROOT / "tests" / "firmware"
BOARD = ROOT / "boards" / "sim" / "board.json"

SCRIPT = """
import json
import chargedefs as d
import meter_case
from backplane import catalog, module
from iomodule import meters
from simboard.runner import SimBoard

class Link:
    point = None

def answer(point):
    Link.point = point
    payload = module.REQUESTS.handler(catalog.HIGHER_METER)(Link)
    return catalog.unpack(catalog.HIGHER_METER | catalog.RESPONSE, payload)

sb = SimBoard(json.load(open(%r)), True)
mp = meters.MAPS["em24"]
own = meters.encode(mp, meter_case.READING)
own.update(meters.encode_ident(mp, "CG1234567", "1.2.3"))
upstream = [v * 3 for v in meter_case.READING]
high = meter_case.ScriptedMeter(2, meters.encode(mp, upstream))
sb.hal.meter_line(meter_case.Line(meter_case.ScriptedMeter(1, own), high), 9600)
cfg = %s
sb.point.configure(cfg)
out = {"before": answer(sb.point)[0]}
t = 0
for i in range(400):
    t += 10
    sb.tick(t)
state, reading = answer(sb.point)
out["ok"] = [state, reading[meters.I1] if reading else None, sb.point.snapshot()["i1_ma"]]
events = []
while True:
    ev = sb.point.pop_event()
    if ev is None:
        break
    if ev[0] == d.EV_METER_IDENT:
        events.append(ev[1])
out["ident"] = events
high.mode = "silent"
for i in range(600):
    t += 10
    sb.tick(t)
state, reading = answer(sb.point)
out["lost"] = [state, reading, sb.point.error_bits & d.ERR_METER_COMM, sb.point.meter_ok]
cfg["higher_meter"] = False
sb.point.configure(cfg)
out["off"] = answer(sb.point)[0]
print(json.dumps(out))
"""


def expected():
    import chargedefs as d
    import meter_case

    return {
        "before": d.HIGHER_WAITING,
        "ok": [d.HIGHER_OK, 3 * meter_case.READING[3], meter_case.READING[3]],
        "ident": [["CG1234567", "1.2.3"]],
        "lost": [d.HIGHER_LOST, [], 0, True],
        "off": d.HIGHER_NONE,
    }


def script():
    cfg = dict(FULL, meter_type="em24", higher_meter=True)
    return SCRIPT % (str(BOARD), json.dumps(cfg).replace("true", "True").replace("false", "False"))


def test_on_micropython(micropython):
    out = micropython.run(script(), extra_path=[HERE])
    assert json.loads(out) == expected()


def test_on_cpython():
    import contextlib
    import io
    import sys

    sys.path.insert(0, str(HERE))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(script(), {})
    assert json.loads(buf.getvalue()) == expected()

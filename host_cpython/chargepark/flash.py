"""`chargepark flash`: put a board image (out/images/<BOARD>/) onto a real IO module over its USB serial port.

The files are checked against the image's manifest (SHA-256) first, then written through MicroPython's raw
REPL (Ctrl-A: execute code without echo), in base64 chunks, each file verified on the board by its SHA-256
afterwards. Nothing but pyserial is needed on the host; any MicroPython board with a REPL on the port works.
`--dry-run` prints what would be copied and touches no port.
"""

from __future__ import annotations

import argparse
import binascii
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Protocol, TextIO

CHUNK = 384  # bytes per write command: fits the REPL line buffer of small boards
DEFAULT_IMAGES = Path("out") / "images"


class FlashError(Exception):
    """A refused image or a board that does not do what the raw REPL protocol says; the reason is the text."""


class Port(Protocol):
    def write(self, data: bytes) -> int | None: ...

    def read(self, size: int = 1) -> bytes: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--board", required=True, help="board name: a directory of the images directory")
    parser.add_argument(
        "--port", help="serial port of the board, e.g. /dev/ttyACM0 (not needed with --dry-run)"
    )
    parser.add_argument(
        "--images", type=Path, default=DEFAULT_IMAGES, help="images directory (default out/images)"
    )
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each board answer")
    parser.add_argument("--dry-run", action="store_true", help="show what would be copied; touch nothing")
    parser.add_argument("--no-reset", action="store_true", help="do not soft-reset the board afterwards")


def load_plan(images: Path, board: str) -> list[tuple[str, bytes]]:
    """(remote path, content) for every file of the image, each checked against the manifest."""
    root = images / board
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except (OSError, ValueError) as e:
        raise FlashError(
            "no usable image for board %r in %s (%s); build it with `scons images`" % (board, root, e)
        ) from e
    if manifest.get("board") != board:
        raise FlashError("the image in %s is for board %r, not %r" % (root, manifest.get("board"), board))
    plan = []
    for entry in manifest["files"]:
        path = entry["path"]
        if path.startswith("/") or ".." in path.split("/"):
            raise FlashError("manifest names an unsafe path %r" % path)
        data = (root / path).read_bytes()
        if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise FlashError("%s does not match the manifest (size or SHA-256): rebuild the image" % path)
        plan.append((path, data))
    return plan


def directories(plan: list[tuple[str, bytes]]) -> list[str]:
    dirs: set[str] = set()
    for path, _ in plan:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return sorted(dirs, key=lambda p: (p.count("/"), p))


class RawRepl:
    """The MicroPython raw REPL over a byte port: enter (Ctrl-C, Ctrl-A), exec (code + Ctrl-D), leave."""

    def __init__(self, port: Port, timeout: float) -> None:
        self.port = port
        self.timeout = timeout

    def _read_until(self, marker: bytes) -> bytes:
        data = b""
        end = time.monotonic() + self.timeout
        while not data.endswith(marker):
            chunk = self.port.read(1)
            if chunk:
                data += chunk
            elif time.monotonic() > end:
                raise FlashError(
                    "the board did not answer (waited %.0f s for %r; got %r)"
                    % (self.timeout, marker, data[-80:])
                )
        return data

    def enter(self) -> None:
        self.port.write(b"\r\x03\x03")
        time.sleep(0.1)
        self.port.reset_input_buffer()
        self.port.write(b"\x01")
        self._read_until(b"raw REPL; CTRL-B to exit\r\n>")

    def exec(self, code: str) -> bytes:
        self.port.write(code.encode() + b"\x04")
        if self._read_until(b"OK") != b"OK":
            raise FlashError("the board refused the command")
        out = self._read_until(b"\x04")[:-1]
        err = self._read_until(b"\x04")[:-1]
        self._read_until(b">")
        if err:
            raise FlashError("the board raised: %s" % err.decode(errors="replace").strip().splitlines()[-1])
        return out

    def leave(self, reset: bool) -> None:
        self.port.write(b"\x02")
        if reset:
            self.port.write(b"\x04")  # soft reset from the friendly REPL: boot.py -> main.py


class Progress:
    def __init__(self, total: int, out: TextIO) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.out = out

    def advance(self, n: int, label: str) -> None:
        self.done += n
        filled = 30 * self.done // self.total
        self.out.write(
            "\r[%s%s] %3d%% %7.1f/%.1f kB %-40s"
            % (
                "#" * filled,
                "." * (30 - filled),
                100 * self.done // self.total,
                self.done / 1024,
                self.total / 1024,
                label[-40:],
            )
        )
        self.out.flush()

    def finish(self) -> None:
        self.out.write("\n")


def flash(port: Port, plan: list[tuple[str, bytes]], timeout: float, reset: bool, out: TextIO) -> None:
    repl = RawRepl(port, timeout)
    repl.enter()
    repl.exec("import os, binascii, hashlib")
    for d in directories(plan):
        repl.exec("try:\n os.mkdir(%r)\nexcept OSError:\n pass" % d)
    progress = Progress(sum(len(data) for _, data in plan), out)
    for path, data in plan:
        repl.exec("f = open(%r, 'wb'); w = f.write; a = binascii.a2b_base64" % path)
        for i in range(0, len(data), CHUNK):
            chunk = data[i : i + CHUNK]
            repl.exec("w(a(%r))" % binascii.b2a_base64(chunk, newline=False).decode())
            progress.advance(len(chunk), path)
        if not data:
            progress.advance(0, path)
        got = repl.exec(
            "f.close()\nh = hashlib.sha256()\nwith open(%r, 'rb') as f:\n h.update(f.read())\n"
            "print(binascii.hexlify(h.digest()).decode())" % path
        )
        if got.strip().decode() != hashlib.sha256(data).hexdigest():
            raise FlashError("%s: the board's copy differs from the image (SHA-256)" % path)
    progress.finish()
    repl.leave(reset)


def run(args: Any) -> int:
    try:
        plan = load_plan(args.images, args.board)
    except FlashError as e:
        print("flash: %s" % e, file=sys.stderr)
        return 2
    total = sum(len(data) for _, data in plan)
    if args.dry_run:
        for d in directories(plan):
            print("mkdir :%s" % d)
        for path, data in plan:
            print("copy %s -> :%s (%d bytes)" % (args.images / args.board / path, path, len(data)))
        print("%d files, %d bytes for board %s (dry run: nothing written)" % (len(plan), total, args.board))
        return 0
    if not args.port:
        print("flash: --port is required (or use --dry-run)", file=sys.stderr)
        return 2
    import serial  # pyserial: a project dependency, only needed when a port is really used

    try:
        port = serial.Serial(args.port, args.baud, timeout=0.05)
    except (OSError, serial.SerialException) as e:
        print("flash: cannot open %s: %s" % (args.port, e), file=sys.stderr)
        return 2
    try:
        flash(port, plan, args.timeout, not args.no_reset, sys.stderr)
    except FlashError as e:
        print("\nflash: %s" % e, file=sys.stderr)
        return 1
    finally:
        port.close()
    print("flashed %d files (%d bytes) to %s" % (len(plan), total, args.port))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargepark flash", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

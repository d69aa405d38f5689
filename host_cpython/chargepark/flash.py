"""`chargepark flash`: put a board image (out/images/<BOARD>/) onto a real IO module over its USB serial port.

The files are checked against the image's manifest (SHA-256) first, then written through MicroPython's raw
REPL by mpremote's serial transport, each file verified on the board by its SHA-256 afterwards (mpremote
reads it back and hashes it here when the board has no hashlib). Any MicroPython board with a REPL on the
port works. `--dry-run` prints what would be copied and touches no port.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport
from rich.console import Console
from rich.progress import Progress

from chargepark.progressbar import label, transfer_progress

DEFAULT_IMAGES = Path("out") / "images"


class FlashError(Exception):
    """A refused image or a board that does not do what the raw REPL protocol says; the reason is the text."""


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


def _enter_raw_repl(transport: SerialTransport, timeout: float) -> None:
    said = io.StringIO()
    try:
        # No soft reset: boot.py starts the point's program, which would take the REPL away again.
        # mpremote prints what the board said before it gives up: keep it for the message.
        with contextlib.redirect_stdout(said):
            transport.enter_raw_repl(soft_reset=False, timeout_overall=timeout)
    except TransportError as e:
        raise FlashError(
            "the board did not answer with a raw REPL (waited %.0f s; got %s)"
            % (timeout, said.getvalue().strip() or "nothing")
        ) from e


def flash(
    transport: SerialTransport, plan: list[tuple[str, bytes]], timeout: float, reset: bool, progress: Progress
) -> None:
    """Write every file of the plan through the raw REPL, each checked on the board by its SHA-256."""
    _enter_raw_repl(transport, timeout)
    try:
        for d in directories(plan):
            if not transport.fs_isdir(d):
                transport.fs_mkdir(d)
        task = progress.add_task("", total=sum(len(data) for _, data in plan))
        done = 0
        for path, data in plan:
            progress.update(task, description=label(path))
            transport.fs_writefile(
                path,
                data,
                progress_callback=lambda n, _total, base=done: progress.update(task, completed=base + n),
            )
            done += len(data)
            progress.update(task, completed=done)
            if transport.fs_hashfile(path, "sha256") != hashlib.sha256(data).digest():
                raise FlashError("%s: the board's copy differs from the image (SHA-256)" % path)
        progress.update(task, description="%d files written and verified" % len(plan))
    except TransportExecError as e:
        raise FlashError("the board raised: %s" % e.error_output.strip().splitlines()[-1]) from e
    except (TransportError, OSError) as e:  # mpremote turns a board's OSError into a local one
        raise FlashError("the board stopped answering or refused a file: %s" % e) from e
    transport.exit_raw_repl()
    if reset:
        transport.serial.write(b"\x04")  # soft reset from the friendly REPL: boot.py -> main.py


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
    try:
        transport = SerialTransport(args.port, args.baud, timeout=args.timeout)
    except TransportError as e:
        print("flash: cannot open %s: %s" % (args.port, e), file=sys.stderr)
        return 2
    try:
        with transfer_progress(Console(stderr=True)) as progress:
            flash(transport, plan, args.timeout, not args.no_reset, progress)
    except FlashError as e:
        print("flash: %s" % e, file=sys.stderr)
        return 1
    finally:
        transport.close()
    print("flashed %d files (%d bytes) to %s" % (len(plan), total, args.port))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargepark flash", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

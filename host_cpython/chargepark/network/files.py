"""Rendered files and their atomic installation below a root directory."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HEADER = "Written by `chargepark network apply` from the network area; local edits are overwritten."


@dataclass(frozen=True)
class File:
    path: str  # relative to the root
    text: str | None  # None: the file must not exist (the feature is off)
    mode: int = 0o644


def write_atomic(root: Path, f: File) -> bool:
    """Install `f` below `root`; True if anything changed. A reader sees the old or the new file, never a
    partial one: the text goes to a temporary file in the same directory, is synced, then renamed."""
    target = root / f.path
    if f.text is None:
        if not target.exists():
            return False
        target.unlink()
        _sync_dir(target.parent)
        return True
    data = f.text.encode()
    try:
        if target.read_bytes() == data and (target.stat().st_mode & 0o777) == f.mode:
            return False
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(".%s.tmp" % target.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, f.mode)
    try:
        try:
            os.fchmod(fd, f.mode)  # the umask must not widen or narrow a secret's mode
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    _sync_dir(target.parent)
    return True


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe(root: Path, files: Iterable[File]) -> str:
    """The dry run's listing: each file with its mode and text, or that an existing one would be removed."""
    out = []
    for f in files:
        if f.text is None:
            if (root / f.path).exists():
                out.append("--- remove /%s\n" % f.path)
        else:
            out.append("--- /%s (mode %o)\n%s" % (f.path, f.mode, f.text))
    return "".join(out)

"""The systemd unit of the head (one unit: the supervisor watches the services itself)."""

from __future__ import annotations

import shutil
import sys
from importlib.resources import files
from pathlib import Path

UNIT = "chargepark.service"


def render(executable: str, data: Path, user: str) -> str:
    text = files("chargepark.systemd").joinpath(UNIT).read_text()
    return text.replace("@EXEC@", executable).replace("@DATA@", str(data)).replace("@USER@", user)


def install(dest: Path, data: Path, user: str) -> list[Path]:
    """Writes the unit into dest (normally /etc/systemd/system); returns the files written."""
    exe = shutil.which("chargepark") or str(Path(sys.executable).with_name("chargepark"))
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / UNIT
    path.write_text(render(exe, data.resolve(), user))
    return [path]

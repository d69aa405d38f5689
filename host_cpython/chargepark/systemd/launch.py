"""The head's start from the active A/B slot (the unit's ExecStart): `python -m chargepark.systemd.launch
DATA ARGS...` replaces itself with the head's CLI, the active slot's `site` first on the path; with no slot
active (or its site gone), this installation's. The bundle installer moves `active`; the next start runs it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from chargepark.bundle import slots


def command(data: Path, args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The argv and environment the head starts with."""
    slot = slots.active(data)
    if slot is not None and slots.site(data, slot).is_dir():
        env = slots.slot_env(data, slot)
    else:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # the system install, whatever the caller's environment says
    return slots.cli_argv(*args), env


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m chargepark.systemd.launch DATA [chargepark arguments]", file=sys.stderr)
        return 2
    args, env = command(Path(argv[0]), argv[1:])
    os.execve(args[0], args, env)
    return 1  # not reached: execve replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

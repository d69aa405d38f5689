"""A fixed link's one .network file (ETH1 from the station's role, usb0 always): written below the network
backend's root and taken by networkd, or the previous file put back and taken again."""

from __future__ import annotations

import contextlib
from typing import Any

from chargepark.network.files import File, write_atomic
from chargepark.network.host import NetworkHost
from chargepark.network.runner import CommandFailed


class LinkRefused(ValueError):
    """The link's file could not be applied (its previous file stays)."""


def apply(host: NetworkHost, link: str, new: File, commands: list[list[str]]) -> dict[str, Any]:
    """Installs `new` for `link` and runs `commands` (networkd's; only listed on a development head); on a
    failure the previous file is put back, the commands run once more, and LinkRefused says why."""
    path = host.root / new.path
    old = File(new.path, path.read_text() if path.exists() else None)
    with host.lock:
        runner = host.runner()
        changed = write_atomic(host.root, new)
        try:
            for argv in commands:
                runner.run(argv)
        except (CommandFailed, OSError) as exc:
            write_atomic(host.root, old)
            with contextlib.suppress(CommandFailed, OSError):
                for argv in commands:
                    runner.run(argv, check=False)
            raise LinkRefused("%s not configured: %s" % (link.upper(), exc)) from exc
    return {
        "changed": ["/" + new.path] if changed else [],
        "commands": [" ".join(argv) for argv in runner.record],
        "system": host.system,
    }

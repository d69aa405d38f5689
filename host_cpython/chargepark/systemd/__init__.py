"""The systemd unit of the head (one unit: the supervisor watches the services itself), started through
`launch` from the active A/B slot. As root it owns the machine's network and system settings with only the
rights of `rights` (docs/services.md "systemd"); as any other user it owns nothing but its data directory."""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

from chargepark.systemd import rights

UNIT = "chargepark.service"
MODEM_UNIT = "chargepark-modem.service"  # only a root head: it owns the machine's modem
# Hardening that costs the head nothing: no kernel tunables, modules or cgroups written, /home read-only.
HARDENING = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=read-only",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectControlGroups=yes",
)


def _rights(data: Path, user: str) -> list[str]:
    if user != "root":  # nothing of the machine: the backends write below DATA and only list commands
        bind = "CAP_NET_BIND_SERVICE"
        return ["CapabilityBoundingSet=" + bind, "AmbientCapabilities=" + bind, *HARDENING,
                "ReadWritePaths=%s" % data]  # fmt: skip
    from chargepark.network import host as network_host  # late: the network runner imports `rights`
    from chargepark.wbm import systemhost

    return [
        "# Root with only the capabilities systemd/rights.py lists (the programs run and why): the",
        "# network and System Control backends apply to / instead of below the data directory.",
        "Environment=%s=/ %s=/" % (network_host.ENV, systemhost.ENV),
        "CapabilityBoundingSet=" + " ".join(rights.capabilities()),
        *HARDENING,
        "ReadWritePaths=%s" % " ".join((*rights.WRITABLE, str(data))),
        "# No PrivateTmp=: wpa_cli/hostapd_cli reply sockets in /tmp must be reachable by the daemons.",
        "RuntimeDirectory=" + rights.RUNTIME_DIRECTORY,
        "RuntimeDirectoryPreserve=yes",  # removed routes stay listed across a restart of the head
    ]


def render(python: str, data: Path, user: str, unit: str = UNIT) -> str:
    text = files("chargepark.systemd").joinpath(unit).read_text()
    text = text.replace("@RIGHTS@", "\n".join(_rights(data, user)))
    return text.replace("@PYTHON@", python).replace("@DATA@", str(data)).replace("@USER@", user)


def install(dest: Path, data: Path, user: str) -> list[Path]:
    """Writes the units into dest (normally /etc/systemd/system); returns the files written. The launcher
    runs on this interpreter: the one the head is installed for."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for unit in (UNIT, MODEM_UNIT) if user == "root" else (UNIT,):
        path = dest / unit
        path.write_text(render(sys.executable, data.resolve(), user, unit))
        written.append(path)
    return written

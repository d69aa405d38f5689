"""What the head's unit grants, in one table: every system program the backends run on a real head
(the network backend, System Control) with the capabilities it needs, the head's own privileged acts,
and where it writes. `network.runner.Runner` refuses a program missing here, the unit's
CapabilityBoundingSet= and ReadWritePaths= are made from it, and tests/host/test_systemd_unit.py checks
the two against each other and against the files the backends write.

The head runs as root with only these capabilities (docs/services.md "systemd" says why, not an
unprivileged head with a privileged helper): the D-Bus daemons it drives authorize the caller's uid 0,
not a capability (see `_DBUS`).
"""

from __future__ import annotations

from typing import NamedTuple


class Program(NamedTuple):
    caps: tuple[str, ...]  # what it needs from the unit's bounding set
    why: str


# sd-bus learns no capabilities of a peer: PID 1 (over its private socket), hostnamed and timedated run as
# root and authorize the peer whose uid is theirs; networkd and ModemManager ask polkitd (the image must
# have it), which always authorizes uid 0.
_DBUS = "D-Bus client: the daemon authorizes uid 0, no capability of ours counts"
PROGRAMS: dict[str, Program] = {
    "ip": Program(("CAP_NET_ADMIN",), "addresses, links and routes (netlink): the modem's bearer, the routing table"),
    "nft": Program(("CAP_NET_ADMIN",), "the Port Sharing ruleset"),
    "openvpn": Program(("CAP_NET_ADMIN",), "TEST VPN CONNECTION opens a tun device"),
    "ping": Program(("CAP_NET_RAW",), "TEST MODEM (Debian's empty ping_group_range leaves ICMP to raw sockets)"),
    "date": Program(("CAP_SYS_TIME",), "System Control/Time: the system clock"),
    "hwclock": Program(("CAP_SYS_TIME",), "System Control/Time: the RTC"),
    "systemctl": Program((), "enables, restarts and stops the backends' units (firewall, routes, hostapd, wpa_supplicant, OpenVPN, timesyncd); " + _DBUS),
    "networkctl": Program((), "reload and reconfigure ETH0 and WLAN; " + _DBUS),
    "hostnamectl": Program((), "the host name (sethostname(2) itself would need CAP_SYS_ADMIN); " + _DBUS),
    "timedatectl": Program((), "NTP on/off; " + _DBUS),
    "mmcli": Program((), "the modem; " + _DBUS),
    "wpa_cli": Program((), "WLAN scan and status: root's control socket; its reply socket is bound in /tmp"),
    "hostapd_cli": Program((), "access point status: as wpa_cli"),
    "cat": Program((), "a namespace's sysfs (`--netns` only: tests, never a head)"),
}  # fmt: skip

# Capability -> the head's own act that needs it (no program of its own).
ACTS: dict[str, str] = {
    "CAP_NET_BIND_SERVICE": "the WBM on 80/443 and the Modbus server on 502 (ports below 1024)",
    "CAP_CHOWN": "Developer Mode rewrites /etc/shadow and gives it back its group shadow",
}

# Where the head writes besides its data directory (ProtectSystem=strict makes the rest read-only).
# /etc whole: /etc/shadow and /etc/hostname are replaced by a rename in /etc itself.
# /tmp shared, not PrivateTmp=: wpa_cli and hostapd_cli bind their reply socket there and the daemons,
# outside the head's mount namespace, must reach it; the OpenVPN test's configuration goes there too.
WRITABLE = ("/etc", "/tmp")
RUNTIME_DIRECTORY = "chargepark"  # /run/chargepark: routes removed until the restart, the VPN's socket


def capabilities() -> list[str]:
    """The unit's bounding set: what the programs and acts need, nothing else."""
    return sorted({cap for p in PROGRAMS.values() for cap in p.caps} | set(ACTS))


def check(program: str) -> None:
    """Refuses a program the table (so the unit) does not cover."""
    if program not in PROGRAMS:
        raise PermissionError(
            "%s is not in chargepark/systemd/rights.py: the head's unit grants it nothing" % program
        )

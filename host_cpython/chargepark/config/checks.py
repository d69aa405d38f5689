"""Reusable single-record checks for the head-only configuration areas.

A check takes the clean record and returns `(field path, reason)` or None, as `chargeschema.validate` expects.
Factories return one check per field so that every faulty field is reported at once.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

Record = dict[str, Any]
Problem = tuple[str, str] | None
Check = Callable[[Record], Problem]

# 192.168.4.x and 192.168.5.x carry the internal server-client link (ETH1) and the USB-C link, whose head
# end is 192.168.5.1 (manual, Network and System Control/Module Switch).
PARK_NET = ipaddress.IPv4Network("192.168.4.0/24")
PARK_SERVER = ipaddress.IPv4Address("192.168.4.1")  # the server's ETH1 address; clients take the others
USB_NET = ipaddress.IPv4Network("192.168.5.0/24")
USB_HEAD = "192.168.5.1"
RESERVED_NETS = (PARK_NET, USB_NET)
_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_UTC_TIME = "%Y-%m-%dT%H:%M:%SZ"


def ipv4_problem(text: str) -> str | None:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return "must be an IPv4 address such as 192.168.1.10"
    return None


def ipv4(name: str, *, required_if: Callable[[Record], bool] | None = None, public: bool = False) -> Check:
    """`name` holds an IPv4 address; empty is allowed unless `required_if(record)`; `public` refuses the
    reserved internal subnets."""

    def check(c: Record) -> Problem:
        text = c[name]
        if text == "":
            if required_if is not None and required_if(c):
                return (name, "required")
            return None
        problem = ipv4_problem(text)
        if problem:
            return (name, problem)
        if public and any(ipaddress.IPv4Address(text) in net for net in RESERVED_NETS):
            return (name, "192.168.4.x and 192.168.5.x are reserved for USB and the server-client link")
        return None

    return check


def park_client_problem(text: str) -> str | None:
    """Why `text` cannot be a client's ETH1 address in the park, else None."""
    problem = ipv4_problem(text)
    if problem:
        return problem
    address = ipaddress.IPv4Address(text)
    if address not in PARK_NET or address in (PARK_NET.network_address, PARK_NET.broadcast_address):
        return "a client's ETH1 address lies in the park's %s (server-client link)" % PARK_NET
    if address == PARK_SERVER:
        return "%s is the server's ETH1 address" % PARK_SERVER
    return None


def park_client(name: str, *, client: Callable[[Record], bool]) -> Check:
    """`name` holds the ETH1 address of a record that `client` says is a client station."""

    def check(c: Record) -> Problem:
        if not client(c):
            return None
        problem = park_client_problem(c[name]) if c[name] else "required"
        return (name, problem) if problem else None

    return check


def netmask(name: str) -> Check:
    def check(c: Record) -> Problem:
        try:
            ipaddress.IPv4Network("0.0.0.0/" + c[name])
        except ValueError:
            return (name, "must be a subnet mask such as 255.255.255.0")
        return None

    return check


def cidr(name: str, *, public: bool = False) -> Check:
    """`name` holds address/prefix; `public` refuses a network overlapping the reserved internal subnets."""

    def check(c: Record) -> Problem:
        try:
            net = ipaddress.IPv4Interface(c[name]).network
        except ValueError:
            return (name, "must be address/prefix such as 192.168.0.1/24")
        if public and any(net.overlaps(r) for r in RESERVED_NETS):
            return (name, "192.168.4.x and 192.168.5.x are reserved for USB and the server-client link")
        return None

    return check


def _subnet(c: Record, address: str, mask: str) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Interface(c[address] + "/" + c[mask]).network
    except ValueError:
        return None  # the field checks report the malformed one


def host_in_subnet(
    name: str, address: str, mask: str, *, when: Callable[[Record], bool] = lambda c: True
) -> Check:
    """`name` (when set) is a host of the subnet `address`/`mask`: inside it, neither its network nor its
    broadcast address (the static ETH0 address itself, and its gateway)."""

    def check(c: Record) -> Problem:
        net = _subnet(c, address, mask)
        if not c[name] or not when(c) or net is None or net.prefixlen >= 31 or ipv4_problem(c[name]):
            return None
        host = ipaddress.IPv4Address(c[name])
        if host not in net:
            return (name, "must lie in the subnet %s" % net)
        if host in (net.network_address, net.broadcast_address):
            return (name, "is the network or broadcast address of %s" % net)
        return None

    return check


def required(name: str, when: Callable[[Record], bool], reason: str) -> Check:
    def check(c: Record) -> Problem:
        return (name, "required " + reason) if when(c) and not c[name] else None

    return check


def printable_ascii(name: str) -> Check:
    """WPA passphrases are printable ASCII (IEEE 802.11i); anything else hostapd refuses."""

    def check(c: Record) -> Problem:
        if not all(" " <= ch <= "~" for ch in c[name]):
            return (name, "only printable ASCII characters")
        return None

    return check


def hostname(name: str) -> Check:
    def check(c: Record) -> Problem:
        if not _HOSTNAME.match(c[name]):
            return (name, "letters, digits and '-', 1..63 characters, not starting or ending with '-'")
        return None

    return check


def utc_time(name: str) -> Check:
    def check(c: Record) -> Problem:
        try:
            datetime.strptime(c[name], _UTC_TIME)
        except ValueError:
            return (name, "must be a UTC time such as 2030-12-31T23:59:59Z")
        return None

    return check


def url(name: str, schemes: tuple[str, ...]) -> Check:
    def check(c: Record) -> Problem:
        text = c[name]
        if text and not any(text.startswith(s + "://") and len(text) > len(s) + 3 for s in schemes):
            return (name, "must start with " + " or ".join(s + "://" for s in schemes))
        return None

    return check


def split_host_port(text: str) -> tuple[str, int]:
    """`host:port` (an IPv6 address in brackets) as (host, port). Raises ValueError."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if (
        not sep
        or not host
        or any(ch.isspace() for ch in host)
        or not port.isdigit()
        or not 1 <= int(port) <= 65535
    ):
        raise ValueError("%r is not host:port (port 1..65535)" % text)
    return host, int(port)


def host_port(name: str) -> Check:
    """`name` holds host:port, or is empty."""

    def check(c: Record) -> Problem:
        if c[name] == "":
            return None
        try:
            split_host_port(c[name])
        except ValueError:
            return (name, "must be host:port such as 127.0.0.1:1883")
        return None

    return check


def list_items(name: str, item_check: Callable[[Record], tuple[str, str] | None]) -> Check:
    """Apply `item_check` to each entry of list field `name`; report the first faulty entry."""

    def check(c: Record) -> Problem:
        for i, entry in enumerate(c[name]):
            problem = item_check(entry)
            if problem:
                return ("%s[%d].%s" % (name, i, problem[0]), problem[1])
        return None

    return check


def mqtt_topic(text: str, *, wildcards: bool) -> str | None:
    """Why `text` is not a usable MQTT topic (filter if `wildcards`), or None."""
    if not text or "\0" in text:
        return "must be a non-empty topic"
    levels = text.split("/")
    for i, level in enumerate(levels):
        if "+" in level or "#" in level:
            if not wildcards:
                return "must not contain wildcards"
            if level not in ("+", "#") or (level == "#" and i != len(levels) - 1):
                return "'+' must fill a whole level and '#' only the last one"
    return None

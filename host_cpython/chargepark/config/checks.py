"""Reusable single-record checks for the head-only configuration areas.

A check takes the clean record and returns `(field path, reason)` or None, as `schema.validate` expects.
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

# 192.168.4.x and 192.168.5.x carry the USB-C link and the internal server-client link (manual, Network).
RESERVED_NETS = (ipaddress.ip_network("192.168.4.0/24"), ipaddress.ip_network("192.168.5.0/24"))
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


def netmask(name: str) -> Check:
    def check(c: Record) -> Problem:
        try:
            ipaddress.IPv4Network("0.0.0.0/" + c[name])
        except ValueError:
            return (name, "must be a subnet mask such as 255.255.255.0")
        return None

    return check


def cidr(name: str) -> Check:
    def check(c: Record) -> Problem:
        try:
            ipaddress.IPv4Interface(c[name])
        except ValueError:
            return (name, "must be address/prefix such as 192.168.0.1/24")
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

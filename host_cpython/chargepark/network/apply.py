"""Apply a network record: install the rendered files below a root directory, then run each part's
system commands. A failing part is reported and the others still run; a dry run only prints."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from chargepark.network import eth0, firewall, layout, modem, openvpn, routes, wlan
from chargepark.network.files import File, describe, write_atomic
from chargepark.network.runner import CommandFailed, Runner, Tolerant

Record = dict[str, Any]

# Part -> its files from (record, imported OpenVPN text); applied in this order (the firewall first, so a
# newly addressed interface is never unfiltered).
PARTS: dict[str, Callable[[Record, str | None], list[File]]] = {
    "firewall": lambda c, _: firewall.render(c),
    "eth0": lambda c, _: eth0.render(c),
    "wlan": lambda c, _: wlan.render(c),
    "routes": lambda c, _: routes.render(c),
    "modem": lambda c, _: [],
    "openvpn": openvpn.render,
}


@dataclass
class Outcome:
    changed: list[str] = field(default_factory=list)  # files written or removed
    errors: dict[str, str] = field(default_factory=dict)  # part -> why it failed

    @property
    def ok(self) -> bool:
        return not self.errors


def _commands(part: str, c: Record, root: str, old_routes: str | None) -> list[list[str]]:
    if part == "firewall":
        return firewall.commands(root)
    if part == "eth0":
        return eth0.commands(c)
    if part == "wlan":
        return wlan.commands(c)
    if part == "routes":
        return routes.commands(root, old_routes, routes.batch(c))
    if part == "openvpn":
        return openvpn.commands(c)
    return modem.commands(c) if c["modem_enabled"] else modem.teardown()


def apply(
    c: Record, root: Path, runner: Runner, parts: Iterable[str] = PARTS, out: TextIO | None = None
) -> Outcome:
    result = Outcome()
    chosen = [p for p in PARTS if p in set(parts)]
    old_routes = (root / layout.ROUTES).read_text() if (root / layout.ROUTES).exists() else None
    imported = openvpn.read_imported(root)
    for part in chosen:
        files = PARTS[part](c, imported)
        try:
            if runner.dry_run:
                print(describe(root, files), end="", file=out or sys.stdout)
            else:
                result.changed += ["/" + f.path for f in files if write_atomic(root, f)]
            for argv in _commands(part, c, str(root), old_routes):
                runner.run(argv, check=not isinstance(argv, Tolerant))
            if part == "modem" and c["modem_enabled"]:
                _modem_after(c, runner, out)
        except (CommandFailed, modem.ModemError, OSError) as exc:
            result.errors[part] = str(exc)
    return result


def _modem_after(c: Record, runner: Runner, out: TextIO | None) -> None:
    if runner.dry_run:
        print("would configure: the bearer's interface (address, link up%s)"
              % (", default route metric %d" % modem.route_metric(c) if c["modem_default_route"] else ""),
              file=out or sys.stdout)  # fmt: skip
    else:
        modem.configure_bearer(runner, c)

"""`chargepark network ...`: apply the network area (or print what it would write), read the status,
change routes at run time, test and switch the VPN, restart and test the modem, scan for WLANs.

Wired into the main CLI with `add_arguments(subparser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chargepark.config.cli import STORE_FILE
from chargepark.config.store import ConfigStore, StoreError
from chargepark.network import apply, layout, modem, openvpn, routes, status, wlan
from chargepark.network.runner import CommandFailed, Runner

Record = dict[str, Any]


def _location(parser: argparse.ArgumentParser, defaults: bool) -> None:
    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS  # a value given before the subcommand stays

    parser.add_argument("--data", default=default("var"), help="state directory (default ./var)")
    parser.add_argument("--store", default=default(""), help="the store file (default DATA/%s)" % STORE_FILE)
    parser.add_argument("--root", type=Path, default=default(Path("/")), help="where files go (default /)")
    parser.add_argument("--netns", default=default(""), help="run the system commands in this namespace")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _location(parser, True)
    sub = parser.add_subparsers(dest="network_command", required=True)
    ap = sub.add_parser("apply", help="write the network configuration and apply it")
    ap.add_argument("--dry-run", action="store_true", help="print the files and commands, change nothing")
    ap.add_argument("--part", action="append", choices=tuple(apply.PARTS), help="only this part (repeat)")
    sub.add_parser("status", help="the network status as JSON (what the WBM shows)")
    route = sub.add_parser("route", help="add, remove or restore a route now (not persistent)")
    route.add_argument("action", choices=("add", "remove", "restore"))
    route.add_argument("network", help="IPv4/prefix")
    route.add_argument("gateway")
    route.add_argument("interface")
    route.add_argument("--metric", type=int, default=0)
    route.add_argument("--until-restart", action="store_true", help="remove: keep it listed for restore")
    vpn = sub.add_parser("vpn", help="OpenVPN: test the configuration, up/down (on request), import a file")
    vpn.add_argument("action", choices=("test", "up", "down", "import"))
    vpn.add_argument(
        "file", nargs="?", help="import: the configuration file; test: instead of the stored one"
    )
    mdm = sub.add_parser("modem", help="restart the modem, or ping an address through it")
    mdm.add_argument("action", choices=("restart", "test"))
    mdm.add_argument("address", nargs="?", default="")
    sub.add_parser("wlan-scan", help="the WLAN networks in reach (Infrastructure mode)")
    for command in sub.choices.values():
        _location(command, False)


def _store(args: argparse.Namespace) -> ConfigStore:
    return ConfigStore.open(Path(args.store) if args.store else Path(args.data) / STORE_FILE)


def run(args: argparse.Namespace) -> int:
    runner = Runner(netns=args.netns, dry_run=getattr(args, "dry_run", False))
    try:
        return _run(args, runner)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (CommandFailed, modem.ModemError, OSError, ValueError) as exc:
        print("chargepark network: %s" % exc, file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, runner: Runner) -> int:
    command = args.network_command
    if command == "route":
        entry = {"network": args.network, "gateway": args.gateway, "interface": args.interface,
                 "metric": args.metric}  # fmt: skip
        if args.action == "add":
            routes.add(runner, entry)
        elif args.action == "remove":
            routes.remove(runner, args.root, entry, until_restart=args.until_restart)
        else:
            routes.restore(runner, args.root, entry)
        return 0
    if command == "modem":
        if args.action == "restart":
            modem.restart(runner)
            return 0
        ok, log = modem.test_ping(runner, args.address)
        print(log, end="")
        return 0 if ok else 1
    if command == "wlan-scan":
        runner.run(["wpa_cli", "-i", layout.WLAN, "scan"])
        print(json.dumps(wlan.parse_scan(runner.run(["wpa_cli", "-i", layout.WLAN, "scan_results"]).stdout)))
        return 0
    if command == "vpn" and args.action in ("up", "down"):
        (openvpn.up if args.action == "up" else openvpn.down)(runner)
        return 0
    store = _store(args)
    c: Record = store.get("network")
    if command == "vpn" and args.action == "import":
        if not args.file:
            raise ValueError("vpn import needs the file")
        openvpn.import_file(args.root, Path(args.file).read_text())
        store.put("network", {"openvpn_imported": Path(args.file).name, "openvpn_config": ""})
        return 0
    if command == "vpn":
        text = (
            Path(args.file).read_text() if args.file else openvpn.source(c, openvpn.read_imported(args.root))
        )
        ok, log = openvpn.test_connection(runner, text)
        print(log, end="")
        print("connected" if ok else "not connected")
        return 0 if ok else 1
    if command == "status":
        print(json.dumps(status.read(c, runner, args.root), indent=1))
        return 0
    outcome = apply.apply(c, args.root, runner, args.part or apply.PARTS)
    for path in outcome.changed:
        print("wrote %s" % path)
    for part, why in outcome.errors.items():
        print("chargepark network: %s: %s" % (part, why), file=sys.stderr)
    return 0 if outcome.ok else 1

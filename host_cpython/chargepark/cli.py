"""The `chargepark` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chargepark import __version__

if TYPE_CHECKING:
    from rich.console import JustifyMethod

DEFAULT_DATA = "var"
# `chargepark service status`: (header, justify, field of the supervisor's status) per column.
SERVICE_COLUMNS: tuple[tuple[str, JustifyMethod, str], ...] = (
    ("service", "left", "name"), ("state", "left", "state"), ("version", "left", "version"),
    ("pid", "right", "pid"), ("uptime s", "right", "uptime_s"), ("restarts", "right", "restarts"),
    ("last error / note", "left", "last_error"),
)  # fmt: skip


def _data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=Path(DEFAULT_DATA), help="state directory (default ./var)")


def cmd_run(args: argparse.Namespace) -> int:
    from chargepark.headrun import HeadError, RunOptions, run_head

    opts = RunOptions(
        data=args.data,
        sim=args.sim,
        sim_prefix=args.sim_prefix,
        mqtt_port=args.mqtt_port,
        rest_port=args.rest_port,
        web_port=args.web_port,
        loadmgmt_port=args.loadmgmt_port,
        broker=args.broker,
        only=set(args.services.split(",")) if args.services else None,
        table=sys.stdout.isatty() and not args.no_table,
        traffic=not args.no_traffic,
    )
    try:
        return asyncio.run(run_head(opts))
    except (HeadError, RuntimeError) as e:  # RuntimeError: the broker or the simulated park did not start
        print("chargepark: %s" % e, file=sys.stderr)
        return 1


def cmd_service(args: argparse.Namespace) -> int:
    from chargepark import control

    try:
        if args.action == "status":
            reply = control.request(args.data, {"cmd": "status"})
        else:
            reply = control.request(args.data, {"cmd": "restart", "name": args.name})
    except ConnectionError as e:
        print("chargepark: %s" % e, file=sys.stderr)
        return 1
    if not reply.get("ok"):
        print("chargepark: %s" % reply.get("error"), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(reply, indent=1))
    elif args.action == "status":
        from rich.console import Console
        from rich.table import Table

        table = Table(box=None, pad_edge=False, header_style="bold")
        for header, justify, key in SERVICE_COLUMNS:  # a narrow terminal folds the notes, nothing else
            table.add_column(header, justify=justify, no_wrap=key != "last_error")
        for s in reply["services"]:
            table.add_row(*("-" if s[key] is None else str(s[key]) for _, _, key in SERVICE_COLUMNS))
        Console(highlight=False).print(table)
    else:
        print("restarted: %s" % ", ".join(reply["restarted"]))
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from chargepark import simctl

    try:
        points = simctl.load_endpoints(args.data)
        if args.point not in points:
            raise ConnectionError(
                "no simulated point %d (points: %s)" % (args.point, ", ".join(map(str, sorted(points))))
            )
        req = dict(simctl.arguments(args.action, args.args), cmd=args.action)
        reply = simctl.request(points[args.point]["sim_control"], req)
    except (ConnectionError, OSError, ValueError) as e:
        print("chargepark: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(reply, indent=1 if args.action in ("state", "events") else None))
    return 0 if reply.get("ok") else 1


def cmd_update(args: argparse.Namespace) -> int:
    from chargepark.updatecli import run_update

    return run_update(args.data, args.image, args.position or None)


def cmd_config(args: argparse.Namespace) -> int:
    from chargepark.config import cli as config_cli

    return config_cli.run(args)


def cmd_network(args: argparse.Namespace) -> int:
    from chargepark.network import cli as network_cli

    return network_cli.run(args)


def cmd_bundle(args: argparse.Namespace) -> int:
    from chargepark.bundle import cli as bundle_cli

    return bundle_cli.run(args)


def cmd_flash(args: argparse.Namespace) -> int:
    from chargepark import flash

    return flash.run(args)


def cmd_version(args: argparse.Namespace) -> int:
    print("chargepark", __version__)
    return 0


def cmd_systemd(args: argparse.Namespace) -> int:
    from chargepark.systemd import install

    for path in install(args.dest, args.data, args.user):
        print("wrote %s" % path)
    if args.dest == Path("/etc/systemd/system"):
        print("now: systemctl daemon-reload && systemctl enable --now chargepark")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chargepark", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the head module (supervisor, broker, services)")
    _data(run)
    run.add_argument(
        "--sim", type=int, default=0, metavar="N", help="add N simulated IO modules with EV traffic"
    )
    run.add_argument(
        "--sim-prefix",
        default="CPSIM",
        metavar="P",
        help="device UIDs of the simulated modules: P0001.. (a second simulated head of a park: another P)",
    )
    run.add_argument(
        "--no-traffic", action="store_true", help="no EV traffic: drive the points with `chargepark sim`"
    )
    # Ports and broker default to the store's system area (mqtt_port, rest_port, web_port,
    # mqtt_system_broker); a flag overrides it for this run.
    run.add_argument(
        "--mqtt-port", type=int, help="local broker port (0 = any free port; default: configured)"
    )
    run.add_argument(
        "--rest-port", type=int, help="JupiCore REST port (0 = any free port; default: configured)"
    )
    run.add_argument("--web-port", type=int, help="WBM port (0 = any free port; default: configured)")
    run.add_argument(
        "--loadmgmt-port", type=int, help="load management REST port (0 = any free port; default: configured)"
    )
    run.add_argument(
        "--broker",
        metavar="HOST:PORT",
        help="use this system broker instead of our own ('' = our own; default: configured)",
    )
    run.add_argument(
        "--services", default="", help="comma-separated services to run (default: all installed)"
    )
    run.add_argument("--no-table", action="store_true", help="no live table even in a terminal")
    run.set_defaults(func=cmd_run)

    svc = sub.add_parser("service", help="status of the services of a running head, or restart one")
    svc.add_argument("action", choices=("status", "restart"))
    svc.add_argument("name", nargs="?", default="all", help="service name or 'all' (restart)")
    svc.add_argument("--json", action="store_true")
    _data(svc)
    svc.set_defaults(func=cmd_service)

    sim = sub.add_parser("sim", help="drive a running simulated park (plug, charge, faults, ...)")
    _data(sim)
    sim.add_argument("--point", type=int, required=True, help="bus position of the simulated point")
    from simboard.runner import SIM

    sim.add_argument("action", choices=SIM.names(), help="a sim-control command (docs/point-api.md)")
    sim.add_argument(
        "args",
        nargs="*",
        help="its arguments in order or as name=value: rfid TAG | fault NAME on|off | ev max_a=16 ...",
    )
    sim.set_defaults(func=cmd_sim)

    upd = sub.add_parser("update", help="install a firmware image on modules over the bus (running head)")
    _data(upd)
    upd.add_argument(
        "--image", type=Path, default=Path("out/images/sim"), help="image directory (scons images)"
    )
    upd.add_argument("--position", type=int, action="append", help="bus position (repeat; default all)")
    upd.set_defaults(func=cmd_update)

    cfg = sub.add_parser("config", help="configuration store: show, set, export, import, validate, ...")
    from chargepark.config import cli as config_cli

    config_cli.add_arguments(cfg)
    cfg.set_defaults(func=cmd_config)

    net = sub.add_parser("network", help="apply the network area to this Linux system (--dry-run), status")
    from chargepark.network import cli as network_cli

    network_cli.add_arguments(net)
    net.set_defaults(func=cmd_network)

    fl = sub.add_parser("flash", help="write a board image to an IO module over its USB serial port")
    from chargepark import flash

    flash.add_arguments(fl)
    fl.set_defaults(func=cmd_flash)

    bdl = sub.add_parser("bundle", help="signed software bundles: keygen, build, sign, verify, install")
    from chargepark.bundle import cli as bundle_cli

    bundle_cli.add_arguments(bdl)
    bdl.set_defaults(func=cmd_bundle)

    sd = sub.add_parser("systemd", help="install the systemd unit of the head")
    sd.add_argument("--dest", type=Path, default=Path("/etc/systemd/system"))
    sd.add_argument("--data", type=Path, default=Path("/var/lib/chargepark"))
    sd.add_argument("--user", default="root")
    sd.set_defaults(func=cmd_systemd)

    ver = sub.add_parser("version", help="print the version")
    ver.set_defaults(func=cmd_version)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result

"""The `chargepark` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from chargepark import __version__

DEFAULT_DATA = "var"
SIM_ACTIONS = ("plug", "unplug", "charge", "pause", "resume", "rfid", "fault", "ev", "state", "events")


def _data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=Path(DEFAULT_DATA), help="state directory (default ./var)")


def cmd_run(args: argparse.Namespace) -> int:
    from chargepark.headrun import HeadError, RunOptions, run_head

    opts = RunOptions(
        data=args.data,
        sim=args.sim,
        mqtt_port=args.mqtt_port,
        rest_port=args.rest_port,
        web_port=args.web_port,
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
        print(
            "%-18s %-14s %-8s %6s %9s %8s  %s"
            % ("service", "state", "version", "pid", "uptime s", "restarts", "last error / note")
        )
        for s in reply["services"]:
            print(
                "%-18s %-14s %-8s %6s %9s %8s  %s"
                % (
                    s["name"],
                    s["state"],
                    s["version"],
                    s["pid"] or "-",
                    s["uptime_s"],
                    s["restarts"],
                    s["last_error"],
                )
            )
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
        req: dict[str, object] = {"cmd": args.action}
        if args.action == "plug":
            req["cable_a"] = args.cable
        elif args.action == "rfid":
            if not args.args:
                raise ValueError("rfid needs the card's tag")
            req["tag"] = args.args[0]
        elif args.action == "fault":
            if len(args.args) != 2 or args.args[1] not in ("on", "off"):
                raise ValueError("fault needs NAME on|off (names: docs/point-api.md)")
            req.update(name=args.args[0], on=args.args[1] == "on")
        elif args.action == "ev":
            for item in args.args:
                key, _, value = item.partition("=")
                req[key] = json.loads(value)
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
    sim.add_argument("action", choices=SIM_ACTIONS)
    sim.add_argument("args", nargs="*", help="rfid TAG | fault NAME on|off | ev key=value ...")
    sim.add_argument("--cable", type=int, default=32, help="cable capacity in A (plug)")
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

    fl = sub.add_parser("flash", help="write a board image to an IO module over its USB serial port")
    from chargepark import flash

    flash.add_arguments(fl)
    fl.set_defaults(func=cmd_flash)

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

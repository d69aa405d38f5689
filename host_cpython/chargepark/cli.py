"""The `chargepark` command."""

from __future__ import annotations

import argparse

from chargepark import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargepark", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version", help="print the version")
    args = parser.parse_args(argv)
    if args.command == "version":
        print("chargepark", __version__)
    return 0

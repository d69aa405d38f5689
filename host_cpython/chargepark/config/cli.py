"""`chargepark config ...`: show, change, export, import, validate, reset, restore and salvage the store.

Wired into the main CLI with `add_arguments(subparser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import chargeschema

from chargepark.config.store import ConfigStore, StoreError, salvage, set_aside

STORE_FILE = "config.db"


def store_path(args: argparse.Namespace) -> Path:
    return Path(args.store) if args.store else Path(args.data) / STORE_FILE


def _location(parser: argparse.ArgumentParser, data: str, store: str) -> None:
    parser.add_argument("--data", default=data, help="state directory (default ./var)")
    parser.add_argument("--store", default=store, help="the store file (default DATA/%s)" % STORE_FILE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _location(parser, "var", "")
    sub = parser.add_subparsers(dest="config_command", required=True)
    show = sub.add_parser("show", help="print an area (or one record) as JSON")
    show.add_argument("area", nargs="?")
    show.add_argument("key", nargs="?")
    put = sub.add_parser("set", help="merge a JSON object into a record")
    put.add_argument("area")
    put.add_argument("json", help="e.g. '{\"max_current_a\": 32}'")
    put.add_argument("--key", help="the record of a keyed area (device UID, tag, circuit id)")
    delete = sub.add_parser("delete", help="a record back to its factory defaults")
    delete.add_argument("area")
    delete.add_argument("--key")
    export = sub.add_parser("export", help="export everything, an area or one record as JSON")
    export.add_argument("area", nargs="?")
    export.add_argument("--key")
    export.add_argument("-o", "--output", help="file (default stdout)")
    for name, text in (("import", "import an export"), ("validate", "check an export without importing")):
        p = sub.add_parser(name, help=text)
        p.add_argument("file")
        p.add_argument(
            "--replace", action="store_true", help="records of keyed areas not in the file are deleted"
        )
    reset = sub.add_parser(
        "reset", help="factory defaults (all areas or the named ones); sets a refused store aside"
    )
    reset.add_argument("areas", nargs="*")
    restore = sub.add_parser("restore", help="set the store aside and start a new one from an export")
    restore.add_argument("file")
    rescue = sub.add_parser("salvage", help="export the intact records of a refused store")
    rescue.add_argument("-o", "--output", help="file (default stdout)")
    # --data/--store also after the subcommand, as for the other commands. SUPPRESS: a value given before
    # the subcommand is not overwritten by the subcommand's default.
    for command in sub.choices.values():
        _location(command, argparse.SUPPRESS, argparse.SUPPRESS)


def _print(doc: Any, output: str | None = None) -> None:
    text = json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if output:
        Path(output).write_text(text)
    else:
        sys.stdout.write(text)


def _errors(errors: dict[str, str]) -> int:
    for path in sorted(errors):
        print("invalid: %s: %s" % (path, errors[path]), file=sys.stderr)
    return 1


def _read(file: str) -> Any:
    return json.loads(Path(file).read_text())


def run(args: argparse.Namespace) -> int:
    path = store_path(args)
    command = args.config_command
    try:
        if command == "salvage":
            doc, problems = salvage(path)
            for p in problems:
                print("salvage: %s" % p, file=sys.stderr)
            _print(doc, args.output)
            return 0
        if command == "restore":
            doc = _read(args.file)
            errors = ConfigStore.open(":memory:").validate_document(doc, replace=True)
            if errors:
                return _errors(errors)
            if path.exists():
                print("set aside: %s" % set_aside(path), file=sys.stderr)
            ConfigStore.open(path).import_(doc, replace=True)
            return 0
        if command == "reset" and not args.areas:
            try:
                ConfigStore.open(path).factory_reset()
            except StoreError:
                print("set aside: %s" % set_aside(path), file=sys.stderr)
                ConfigStore.open(path)
            return 0
        return _run_on(ConfigStore.open(path), args)
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 2
    except chargeschema.Invalid as exc:
        return _errors(exc.errors)
    except (OSError, ValueError, KeyError) as exc:
        print("chargepark config: %s" % exc, file=sys.stderr)
        return 1


def _run_on(store: ConfigStore, args: argparse.Namespace) -> int:
    command = args.config_command
    if command == "show":
        _print(store.export(args.area, args.key)["areas"] if args.area else store.export()["areas"])
    elif command == "set":
        _print(store.put(args.area, json.loads(args.json), args.key))
    elif command == "delete":
        store.delete(args.area, args.key)
    elif command == "export":
        _print(store.export(args.area, args.key), args.output)
    elif command == "import":
        store.import_(_read(args.file), replace=args.replace)
    elif command == "validate":
        errors = store.validate_document(_read(args.file), replace=args.replace)
        if errors:
            return _errors(errors)
        print("valid")
    elif command == "reset":
        store.factory_reset(args.areas)
    return 0

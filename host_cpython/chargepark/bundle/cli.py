"""`chargepark bundle keygen|build|sign|verify|install`."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import subprocess
import sys
import tempfile
from pathlib import Path

from chargepark.bundle import manifest
from chargepark.bundle.install import install, verify_for
from chargepark.bundle.slots import CHECK_TIMEOUT_S

TREE = Path(__file__).resolve().parents[3]  # the source tree (pyproject.toml) this head was installed from


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True)
    kg = sub.add_parser(
        "keygen", help="a new Ed25519 key pair: KEY (private) and KEY.pub (for the system area)"
    )
    kg.add_argument("key", type=Path)
    b = sub.add_parser("build", help="a bundle from the tree's wheel and the scons images (unsigned)")
    b.add_argument("out", type=Path)
    b.add_argument("--wheel", type=Path, help="the head's wheel or sdist (default: built from the tree)")
    b.add_argument("--images", type=Path, default=Path("out/images"), help="board image directories")
    b.add_argument("--deps", type=Path, help="a directory of wheels: the head's whole dependency closure "
                   "(`pip wheel -w DIR .`), carried when the bundle changes the dependencies")  # fmt: skip
    s = sub.add_parser("sign", help="sign a bundle's manifest with a private key")
    s.add_argument("bundle", type=Path)
    s.add_argument("--key", type=Path, required=True)
    for name, doc in (("verify", "check a bundle as the head would (signature, hashes, version)"),
                      ("install", "install a bundle (head into the inactive slot, modules over the bus)")):  # fmt: skip
        v = sub.add_parser(name, help=doc)
        v.add_argument("bundle", type=Path)
        v.add_argument("--data", type=Path, default=Path("data"), help="the head's data directory")
    sub.choices["install"].add_argument("--timeout", type=float, default=CHECK_TIMEOUT_S,
                                        help="health check: seconds for the services to run")  # fmt: skip


def build_wheel(dest: Path) -> Path:
    """The tree's wheel. setuptools builds in the tree's own build/ directory, so two builds of one tree at
    once break each other's files: a lock beside the tree makes the second wait."""
    with open(TREE / "build" / ".wheel.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), str(TREE)],
                       check=True)  # fmt: skip
    (wheel,) = dest.glob("chargepark-*.whl")
    return wheel


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "keygen":
            print("wrote %s and %s" % (args.key, manifest.new_key(args.key)))
        elif args.action == "build":
            with tempfile.TemporaryDirectory() as tmp:
                wheel = args.wheel or build_wheel(Path(tmp))
                m = manifest.build(args.out, wheel, args.images, args.deps)
            print("wrote %s: version %s, %d parts (unsigned)" % (args.out, m["version"], len(m["parts"])))
        elif args.action == "sign":
            manifest.sign(args.bundle, args.key)
            print("signed %s" % args.bundle)
        elif args.action == "verify":
            v = verify_for(args.data, args.bundle)
            print(
                "%s: good signature, %d parts, version %s"
                % (args.bundle, len(v.manifest["parts"]), v.version)
            )
        else:
            asyncio.run(install(args.data, args.bundle, args.timeout))
    except manifest.Refused as e:
        print("chargepark: refused: %s" % e, file=sys.stderr)
        return 1
    return 0

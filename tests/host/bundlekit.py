"""Helpers for the bundle tests: small wheels made here, image directories like `scons images` writes,
keys, and a data directory whose system area trusts a key."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from chargepark.bundle import manifest
from chargepark.config import ConfigStore
from chargepark.config.cli import STORE_FILE


def small_wheel(
    out: Path, version: str, init_py: str = "", name: str = "chargepark", requires: tuple[str, ...] = ()
) -> Path:
    """A wheel of a package `name` (by default chargepark: a head that cannot come up) whose __init__ is
    `init_py`, requiring `requires`."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / ("%s-%s-py3-none-any.whl" % (name, version))
    info = "%s-%s.dist-info/" % (name, version)
    metadata = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("%s/__init__.py" % name, init_py)
        z.writestr(info + "METADATA", metadata + "".join("Requires-Dist: %s\n" % r for r in requires))
        z.writestr(
            info + "WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        z.writestr(info + "RECORD", "")
    return path


def images(out: Path, boards: tuple[str, ...] = ("sim", "rp2040")) -> Path:
    for board in boards:
        d = out / board
        d.mkdir(parents=True, exist_ok=True)
        blob = ("image of %s" % board).encode() * 100
        (d / "firmware.img").write_bytes(blob)
        (d / "manifest.json").write_text(
            json.dumps(
                {"board": board, "version": "0.1.0", "image": {"sha256": hashlib.sha256(blob).hexdigest()}}
            )
        )
    return out


def keys(out: Path, name: str = "vendor") -> tuple[Path, str]:
    """(private key file, public key PEM)."""
    out.mkdir(parents=True, exist_ok=True)
    private = out / (name + ".pem")
    public = manifest.new_key(private)
    return private, public.read_text()


def trusting(data: Path, public_pem: str, **ocpp: object) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    store = ConfigStore.open(data / STORE_FILE)
    try:
        store.put("system", dict(store.get("system"), update_public_key=public_pem))
        if ocpp:
            store.put("ocpp", dict(store.get("ocpp"), **ocpp))
    finally:
        store.close()
    return data


def signed(tmp: Path, wheel: Path, private: Path, name: str = "bundle.cpb", deps: Path | None = None) -> Path:
    out = tmp / name
    manifest.build(out, wheel, images(tmp / "images"), deps)
    manifest.sign(out, private)
    return out

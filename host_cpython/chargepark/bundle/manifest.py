"""A software bundle: one uncompressed tar holding the head's wheel (with its dependencies' wheels when it
changes them), the IO-module images and `manifest.json`
(versions, size and SHA-256 of each part), plus `manifest.sig`, an Ed25519 signature over manifest.json's
exact bytes. `verify` checks signature, parts and version before anything is unpacked; a bundle it refuses
has changed nothing."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from packaging.version import InvalidVersion, Version

FORMAT = 1
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
IMAGE_FILES = ("firmware.img", "manifest.json")  # what the bus update reads of an image directory


class Refused(Exception):
    """The bundle is not installed; the reason is for the user."""


@dataclass(frozen=True)
class Verified:
    manifest: dict[str, Any]
    path: Path

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    def parts(self, kind: str) -> list[dict[str, Any]]:
        return [p for p in self.manifest["parts"] if p["kind"] == kind]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel_version(wheel: Path) -> str:
    """The version in a wheel's or sdist's file name (`chargepark-0.1.0-py3-none-any.whl`)."""
    stem = wheel.name.removesuffix(".tar.gz").removesuffix(".whl")
    return stem.split("-")[1]


def build(out: Path, wheel: Path, images: Path, deps: Path | None = None) -> dict[str, Any]:
    """Writes an unsigned bundle: the wheel, every wheel in `deps` (the head's dependency closure, when the
    bundle changes them), every `images/<board>/` with a firmware.img, the manifest."""
    parts: list[tuple[dict[str, Any], bytes]] = []
    blob = wheel.read_bytes()
    parts.append(({"kind": "head", "name": "head/" + wheel.name, "version": wheel_version(wheel)}, blob))
    for dep in sorted(deps.glob("*.whl")) if deps else ():
        entry = {"kind": "dependency", "name": "head/deps/" + dep.name, "version": wheel_version(dep)}
        parts.append((entry, dep.read_bytes()))
    for board_dir in sorted(p for p in images.iterdir() if (p / "firmware.img").exists()):
        image = json.loads((board_dir / "manifest.json").read_text())
        for name in IMAGE_FILES:
            data = (board_dir / name).read_bytes()
            entry = {"kind": "image", "name": "images/%s/%s" % (board_dir.name, name), "board": board_dir.name,
                     "version": str(image.get("version", ""))}  # fmt: skip
            parts.append((entry, data))
    manifest = {
        "format": FORMAT,
        "version": wheel_version(wheel),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "parts": [dict(e, size=len(d), sha256=_digest(d)) for e, d in parts],
    }
    raw = json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n"
    with tarfile.open(out, "w") as tar:
        _add(tar, MANIFEST, raw)
        for entry, data in parts:
            _add(tar, entry["name"], data)
    return manifest


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    tar.addfile(info, io.BytesIO(data))


def new_key(private: Path) -> Path:
    """An Ed25519 key pair: `private` (PKCS#8 PEM, keep it secret) and `<private>.pub` (the configuration's)."""
    key = Ed25519PrivateKey.generate()
    private.touch(mode=0o600)
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )  # fmt: skip
    public = private.with_name(private.name + ".pub")
    public.write_text(public_pem(key.public_key()))
    return public


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def sign(bundle: Path, private: Path) -> None:
    """Appends manifest.sig (replacing none: a signed bundle is signed once)."""
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise Refused("%s is not an Ed25519 private key" % private)
    with tarfile.open(bundle, "r") as tar:
        if SIGNATURE in tar.getnames():
            raise Refused("%s is signed already" % bundle)
        raw = _read(tar, MANIFEST)
    with tarfile.open(bundle, "a") as tar:
        _add(tar, SIGNATURE, key.sign(raw))


def _read(tar: tarfile.TarFile, name: str) -> bytes:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise Refused("the bundle has no %s" % name) from None
    f = tar.extractfile(member)
    if f is None or not member.isfile():
        raise Refused("%s in the bundle is not a file" % name)
    return f.read()


def load_public_key(pem: str) -> Ed25519PublicKey:
    if not pem.strip():
        raise Refused(
            "no update public key configured (system area, update_public_key): no bundle is accepted"
        )
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as e:
        raise Refused("the configured update public key is not a PEM public key: %s" % e) from None
    if not isinstance(key, Ed25519PublicKey):
        raise Refused("the configured update public key is not an Ed25519 key")
    return key


def verify(bundle: Path, public_key_pem: str, running: str) -> Verified:
    """Signature (with the configured key), every part's size and SHA-256, no member beyond the manifest,
    and a version not older than `running`. Reads only; raises Refused with the reason."""
    key = load_public_key(public_key_pem)
    try:
        tar = tarfile.open(bundle, "r")
    except (OSError, tarfile.TarError) as e:
        raise Refused("not a bundle: %s" % e) from None
    with tar:
        raw = _read(tar, MANIFEST)
        try:
            key.verify(_read(tar, SIGNATURE), raw)
        except InvalidSignature:
            raise Refused("the signature does not match: tampered, or signed with another key") from None
        manifest = json.loads(raw)
        if manifest.get("format") != FORMAT:
            raise Refused("bundle format %r, this head reads %d" % (manifest.get("format"), FORMAT))
        listed = {p["name"] for p in manifest["parts"]}
        extra = set(tar.getnames()) - listed - {MANIFEST, SIGNATURE}
        if extra:
            raise Refused("members not in the manifest: %s" % ", ".join(sorted(extra)))
        for part in manifest["parts"]:
            data = _read(tar, part["name"])
            if len(data) != part["size"] or _digest(data) != part["sha256"]:
                raise Refused("%s does not match its SHA-256 in the manifest" % part["name"])
    try:
        if Version(str(manifest["version"])) < Version(running):
            raise Refused("bundle version %s is older than the running %s" % (manifest["version"], running))
    except InvalidVersion as e:
        raise Refused("unreadable version: %s" % e) from None
    return Verified(manifest, bundle)


def extract(verified: Verified, kind: str, dest: Path) -> list[Path]:
    """Writes the parts of `kind` below dest (names as in the manifest, checked: no path leaves dest)."""
    out = []
    with tarfile.open(verified.path, "r") as tar:
        for part in verified.parts(kind):
            target = (dest / part["name"]).resolve()
            if dest.resolve() not in target.parents:
                raise Refused("%s would land outside the slot" % part["name"])
            data = _read(tar, part["name"])
            if _digest(data) != part["sha256"]:  # the file changed since verify
                raise Refused("%s changed since it was verified" % part["name"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            out.append(target)
    return out

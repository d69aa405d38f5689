"""The signed records of the park's sessions, kept for the transparency software: each `meter_signed`
record (docs/point-api.md) with the point, the session, the public key it was checked with and whether its
ECDSA P-256 signature verifies over its payload, one JSON line each in `records.jsonl`, written through
(fsync) before the next."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def verifies(key_hex: str, record: str) -> bool:
    """The OCMF record `OCMF|payload|{"SD": hex, ...}` is signed by the key (DER SubjectPublicKeyInfo, hex)."""
    try:
        head, payload, tail = record.split("|")
        key = serialization.load_der_public_key(bytes.fromhex(key_hex))
        signature = bytes.fromhex(json.loads(tail)["SD"])
    except (ValueError, KeyError, TypeError):
        return False
    if head != "OCMF" or not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, payload.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


class Archive:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, uid: str, session: int, record: str, key_hex: str) -> dict[str, Any]:
        entry = {"t": round(time.time(), 3), "uid": uid, "session": session, "record": record,
                 "public_key": key_hex, "verified": verifies(key_hex, record)}  # fmt: skip
        with open(self.path, "a") as f:
            f.write(json.dumps(entry, separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return entry

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

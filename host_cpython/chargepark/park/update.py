"""A board image for a park client's modules (docs/updates.md "Client stations"): a client head cannot read a
path on the server, so the server's installer sends the image itself, addressed to the station
(topics.AGENT_PARK_UPDATE, bridged to that client only, park/link.py). The client's agent checks the request
whole (its station, both parts, the image against the manifest's SHA-256), writes the image directory into
its own data directory atomically and runs the existing bus update on it; its progress comes back on
topics.AGENT_UPDATE_PROGRESS (bridged out). A refused request writes nothing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

IMAGES = "park-update"  # below the client's data directory: the image of the update running now
FILES = ("manifest.json", "firmware.img")
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,40}\Z")  # it names a directory


class Refused(ValueError):
    """A request that is not taken: nothing of it is written. `rid`: its id, once known (for the answer)."""

    def __init__(self, reason: str, rid: str = "") -> None:
        super().__init__(reason)
        self.rid = rid


def request(rid: str, station: str, image_dir: Path, positions: list[int] | None) -> dict[str, Any]:
    """The request for `station`'s modules at `positions` (None = all of that board) with the image."""
    return {
        "id": rid,
        "station": station,
        "positions": positions or "all",
        "manifest": (image_dir / "manifest.json").read_text(),
        "image": base64.b64encode((image_dir / "firmware.img").read_bytes()).decode(),
    }


def parse(raw: bytes, station: str) -> tuple[str, str, bytes, list[int] | str]:
    """(id, manifest text, image, positions) of a request for this `station`, checked whole."""
    try:
        msg = json.loads(raw)
    except ValueError as exc:
        raise Refused("not JSON: %s" % exc) from None
    if not isinstance(msg, dict):
        raise Refused("not a JSON object")
    rid = msg.get("id")
    if not isinstance(rid, str) or not REQUEST_ID.match(rid):
        raise Refused("id: letters, digits, - and _ (1..40)", rid if isinstance(rid, str) else "")
    if msg.get("station") != station:
        raise Refused("for station %r, this is %s" % (msg.get("station"), station), rid)
    missing = [k for k in ("manifest", "image") if not isinstance(msg.get(k), str)]
    if missing:
        raise Refused("missing: %s" % ", ".join(missing), rid)
    positions = msg.get("positions", "all")
    if positions != "all" and not (
        isinstance(positions, list) and all(type(p) is int and p > 0 for p in positions)
    ):
        raise Refused('positions: a list of bus positions or "all"', rid)
    try:
        manifest = json.loads(msg["manifest"])
        blob = base64.b64decode(msg["image"], validate=True)
        want = manifest["image"]["sha256"]
    except (ValueError, binascii.Error, KeyError, TypeError) as exc:
        raise Refused("manifest or image unreadable: %s" % exc, rid) from None
    if hashlib.sha256(blob).hexdigest() != want:
        raise Refused("firmware.img does not match the manifest's SHA-256", rid)
    return rid, msg["manifest"], blob, positions


def store(data_dir: Path, rid: str, manifest_text: str, blob: bytes) -> Path:
    """The image directory of request `rid` under the data directory, whole or not at all (written beside,
    then renamed); an earlier request's image is removed."""
    root = data_dir / IMAGES
    root.mkdir(exist_ok=True)
    final, tmp = root / rid, root / (rid + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, data in zip(FILES, (manifest_text.encode(), blob), strict=True):
        (tmp / name).write_bytes(data)
    for old in root.iterdir():
        if old not in (tmp, final):
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(final, ignore_errors=True)  # the same request again
    os.replace(tmp, final)
    return final


def accept(raw: bytes, station: str, data_dir: Path) -> tuple[str, Path, list[int] | str]:
    """(id, image directory, positions) of a request taken; Refused: nothing written."""
    rid, manifest_text, blob, positions = parse(raw, station)
    try:
        return rid, store(data_dir, rid, manifest_text, blob), positions
    except OSError as exc:
        raise Refused("not stored: %s" % exc, rid) from None

"""A park client's check of the server's image request (park/update.py): taken whole and written atomically,
or refused with the reason and nothing written."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from chargepark.park import update

from tests.host.bundlekit import images

STATION = "CPC0000000001"


def raw(image_dir: Path, **change: Any) -> bytes:
    req = update.request("a1b2c3", STATION, image_dir, [1])
    for key, value in change.items():
        if value is None:
            del req[key]
        else:
            req[key] = value
    return json.dumps(req).encode()


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    return images(tmp_path / "images", ("sim",)) / "sim"


def test_a_request_is_written_whole_into_the_data_directory(image_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    rid, where, positions = update.accept(raw(image_dir), STATION, data)
    assert (rid, positions) == ("a1b2c3", [1])
    assert where == data / update.IMAGES / rid
    for name in update.FILES:
        assert (where / name).read_bytes() == (image_dir / name).read_bytes()
    # the next request replaces it: only the image of the update running now is kept
    update.accept(raw(image_dir, id="d4e5f6", positions="all"), STATION, data)
    assert [p.name for p in (data / update.IMAGES).iterdir()] == ["d4e5f6"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"image": base64.b64encode(b"another image").decode()}, "does not match the manifest's SHA-256"),
        ({"image": None}, "missing: image"),
        ({"manifest": None}, "missing: manifest"),
        ({"station": "CPC0000000009"}, "for station 'CPC0000000009', this is %s" % STATION),
        ({"id": "../x"}, "id: letters, digits"),
        ({"positions": [0]}, "positions:"),
        ({"image": "not base64!"}, "manifest or image unreadable"),
        ({"manifest": "{}"}, "manifest or image unreadable"),
    ],
)
def test_a_bad_request_is_refused_with_its_reason_and_nothing_is_written(
    image_dir: Path, tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(update.Refused, match=reason.replace("(", r"\(")) as exc:
        update.accept(raw(image_dir, **change), STATION, data)
    assert exc.value.rid == change.get("id", "a1b2c3")  # the answer names the request
    assert list(data.iterdir()) == []


def test_not_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(update.Refused, match="not JSON"):
        update.accept(b"\xff", STATION, tmp_path)
    assert list(tmp_path.iterdir()) == []

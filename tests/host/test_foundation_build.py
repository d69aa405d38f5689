"""The build itself: targets are listed, a second build does nothing, board images are sound."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from backplane import image

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "out" / "images"


def scons(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("scons") or str(Path(sys.executable).with_name("scons"))
    return subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_help_lists_every_target() -> None:
    out = scons("-h").stdout
    for target in ("core", "py", "images", "test", "bench", "sanitize"):
        assert "scons " + target in out


@pytest.mark.slow
def test_second_build_rebuilds_nothing() -> None:
    first = scons("-Q", "core", "py", "images")
    assert first.returncode == 0, first.stderr
    # Question mode exits non-zero when any target of the default build is out of date.
    again = scons("-q", "core", "py", "images")
    assert again.returncode == 0, again.stdout + again.stderr


def unpack(image_path: Path, board: str, dest: Path) -> dict[str, bytes]:
    """Unpack with the modules' own reader (backplane.image), as a bus update would."""
    image.unpack_file(str(image_path), str(dest), board)
    return {str(p.relative_to(dest)): p.read_bytes() for p in dest.rglob("*") if p.is_file()}


def boards() -> list[Path]:
    return sorted(p.parent for p in (ROOT / "boards").glob("*/board.json"))


def test_there_is_a_simulated_and_two_real_boards() -> None:
    archs = [json.loads((b / "board.json").read_text())["mpy_arch"] for b in boards()]
    assert "x64" in archs
    assert len([a for a in archs if a != "x64"]) >= 2


@pytest.mark.parametrize("board", boards(), ids=lambda p: p.name)
def test_image_manifest_matches_files(board: Path, tmp_path: Path) -> None:
    out = IMAGES / board.name
    manifest = json.loads((out / "manifest.json").read_text())
    blob = (out / "firmware.img").read_bytes()
    assert manifest["image"]["sha256"] == hashlib.sha256(blob).hexdigest()
    assert manifest["image"]["size"] == len(blob)
    files = unpack(out / "firmware.img", board.name, tmp_path / "slot")
    assert sorted(files) == sorted(f["path"] for f in manifest["files"])
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert files[entry["path"]] == data
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    mpys = [p for p in files if p.endswith(".mpy")]
    assert mpys, "the image holds compiled modules"
    for path in mpys:
        # mpy v6 header; the architecture is recorded only by modules holding native code.
        assert files[path][0:2] == b"M\x06", path


def test_simulated_image_runs_on_real_micropython(micropython) -> None:  # type: ignore[no-untyped-def]
    sim = next(b for b in boards() if json.loads((b / "board.json").read_text())["mpy_arch"] == "x64")
    out = IMAGES / sim.name
    modules = sorted(
        str(p.relative_to(out).with_suffix("")).replace("/", ".").removesuffix(".__init__")
        for p in out.rglob("*.mpy")
    )
    code = "import sys\nsys.path[:] = ['']\n" + "".join("import %s\n" % m for m in modules) + "print('ok')\n"
    proc = subprocess.run(
        [micropython.binary, "-c", code], cwd=out, capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == "ok", proc.stderr

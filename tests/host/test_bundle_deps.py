"""A bundle that changes the head's dependencies carries their wheels (`bundle build --deps DIR`): each
listed and hashed in the signed manifest like any part, installed into the slot from the bundle alone (the
slot then runs on them, not on the running environment's), and a requirement the bundle does not carry
refuses the install with pip's reason and nothing made active."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from bundlekit import keys, signed, small_wheel, trusting
from chargepark import __version__
from chargepark.bundle import install as installer
from chargepark.bundle import manifest, slots
from chargepark.bundle.install import verify_for
from chargepark.cli import main
from test_bundle_verify import _flip

DEP = "cpdepprobe"  # a package no environment has: only the bundle can bring it


def _head_needing_dep(tmp: Path, version: str = "9.0.0") -> Path:
    return small_wheel(tmp / "w", version, "import %s\n" % DEP, requires=("%s==2.0" % DEP,))


def _deps(tmp: Path) -> Path:
    small_wheel(tmp / "deps", "1.0", "VERSION = '1.0'\n", name=DEP)
    small_wheel(tmp / "deps", "2.0", "VERSION = '2.0'\n", name=DEP)  # the one the head asks for
    return tmp / "deps"


def test_the_dependency_wheels_are_signed_parts_and_a_flipped_byte_in_one_is_refused(tmp_path: Path) -> None:
    private, public = keys(tmp_path / "keys")
    bundle = signed(tmp_path, _head_needing_dep(tmp_path), private, deps=_deps(tmp_path))
    data = trusting(tmp_path / "data", public)
    v = verify_for(data, bundle)
    assert [(p["name"], p["version"]) for p in v.parts("dependency")] == [
        ("head/deps/%s-1.0-py3-none-any.whl" % DEP, "1.0"),
        ("head/deps/%s-2.0-py3-none-any.whl" % DEP, "2.0"),
    ]
    member = "head/deps/%s-2.0-py3-none-any.whl" % DEP
    with pytest.raises(manifest.Refused, match="%s does not match its SHA-256" % member):
        verify_for(data, _flip(bundle, member, tmp_path / "flipped.cpb"))


def test_the_slot_runs_on_the_bundles_dependencies(tmp_path: Path) -> None:
    private, public = keys(tmp_path / "keys")
    data = trusting(tmp_path / "data", public)
    v = verify_for(data, signed(tmp_path, _head_needing_dep(tmp_path), private, deps=_deps(tmp_path)))
    stage = tmp_path / "stage"
    (wheel,) = manifest.extract(v, "head", stage)
    manifest.extract(v, "dependency", stage)
    site = slots.install_head(data, "a", wheel, stage / "head" / "deps")
    probe = "import chargepark, %s; print(%s.VERSION, %s.__file__)" % (DEP, DEP, DEP)
    done = subprocess.run([sys.executable, "-c", probe], env=slots.slot_env(data, "a"), capture_output=True,
                          text=True, check=True)  # fmt: skip
    version, where = done.stdout.split()
    assert version == "2.0" and Path(where).is_relative_to(site)  # the pinned one, from the slot


def test_a_requirement_the_bundle_does_not_carry_refuses_the_install(tmp_path: Path) -> None:
    private, public = keys(tmp_path / "keys")
    data = trusting(tmp_path / "data", public)
    deps = tmp_path / "deps"
    small_wheel(deps, "1.0", name=DEP)  # the head pins 2.0
    bundle = signed(tmp_path, _head_needing_dep(tmp_path), private, deps=deps)
    with pytest.raises(manifest.Refused, match=r"pip could not install.*%s==2.0" % DEP):
        asyncio.run(installer.install(data, bundle, timeout=30))
    assert slots.active(data) is None and installer.running_version(data) == __version__


def test_build_on_the_cli_takes_a_wheel_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "b.cpb"
    wheel, deps = _head_needing_dep(tmp_path), _deps(tmp_path)
    (tmp_path / "none").mkdir()  # no board images: the head and its dependencies only
    assert main(["bundle", "build", str(out), "--wheel", str(wheel), "--images", str(tmp_path / "none"),
                 "--deps", str(deps)]) == 0  # fmt: skip
    assert "3 parts" in capsys.readouterr().out

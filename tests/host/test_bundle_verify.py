"""Bundles refused before anything is installed: signed with another key, one flipped byte (in a part or
in the manifest), older than what runs, unsigned, no key configured; a refused install changes nothing."""

from __future__ import annotations

import asyncio
import json
import tarfile
from pathlib import Path

import pytest
from bundlekit import images, keys, signed, small_wheel, trusting
from chargepark import __version__
from chargepark.bundle import manifest
from chargepark.bundle.install import install, verify_for
from chargepark.cli import main


def test_a_signed_bundle_lists_every_part_with_its_hash(tmp_path: Path) -> None:
    private, public = keys(tmp_path / "keys")
    bundle = signed(tmp_path, small_wheel(tmp_path / "w", __version__), private)
    v = verify_for(trusting(tmp_path / "data", public), bundle)
    assert v.version == __version__
    names = [p["name"] for p in v.manifest["parts"]]
    assert names[0] == "head/chargepark-%s-py3-none-any.whl" % __version__
    assert "images/sim/firmware.img" in names and "images/rp2040/manifest.json" in names
    assert all(len(p["sha256"]) == 64 for p in v.manifest["parts"])


def test_another_key_is_refused(tmp_path: Path) -> None:
    _, public = keys(tmp_path / "keys", "ours")
    foreign, _ = keys(tmp_path / "keys", "foreign")
    bundle = signed(tmp_path, small_wheel(tmp_path / "w", __version__), foreign)
    with pytest.raises(manifest.Refused, match="signed with another key"):
        verify_for(trusting(tmp_path / "data", public), bundle)


def _flip(bundle: Path, member: str, out: Path) -> Path:
    """A copy of the bundle with one byte of `member`'s data flipped."""
    with tarfile.open(bundle) as tar:
        offset = tar.getmember(member).offset_data
    raw = bytearray(bundle.read_bytes())
    raw[offset + 10] ^= 0x01
    out.write_bytes(bytes(raw))
    return out


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("images/sim/firmware.img", "images/sim/firmware.img does not match its SHA-256"),
        ("manifest.json", "signature does not match"),
    ],
)
def test_one_flipped_byte_is_refused(tmp_path: Path, member: str, reason: str) -> None:
    private, public = keys(tmp_path / "keys")
    bundle = signed(tmp_path, small_wheel(tmp_path / "w", __version__), private)
    with pytest.raises(manifest.Refused, match=reason):
        verify_for(trusting(tmp_path / "data", public), _flip(bundle, member, tmp_path / "flipped.cpb"))


def test_an_older_version_than_the_running_one_is_refused(tmp_path: Path) -> None:
    private, public = keys(tmp_path / "keys")
    bundle = signed(tmp_path, small_wheel(tmp_path / "w", "0.0.1"), private)
    with pytest.raises(manifest.Refused, match="0.0.1 is older than the running %s" % __version__):
        verify_for(trusting(tmp_path / "data", public), bundle)


def test_unsigned_extra_members_and_no_configured_key_are_refused(tmp_path: Path) -> None:
    private, public = keys(tmp_path / "keys")
    unsigned = tmp_path / "unsigned.cpb"
    manifest.build(unsigned, small_wheel(tmp_path / "w", __version__), images(tmp_path / "images"))
    data = trusting(tmp_path / "data", public)
    with pytest.raises(manifest.Refused, match=r"no manifest\.sig"):
        verify_for(data, unsigned)
    bundle = signed(tmp_path, small_wheel(tmp_path / "w", __version__), private)
    with tarfile.open(bundle, "a") as tar:
        tar.add(tmp_path / "w", arcname="head/extra")
    with pytest.raises(manifest.Refused, match="members not in the manifest: head/extra"):
        verify_for(data, bundle)
    with pytest.raises(manifest.Refused, match="no update public key configured"):
        verify_for(trusting(tmp_path / "bare", ""), signed(tmp_path, small_wheel(tmp_path / "w", __version__),
                                                           private, "b2.cpb"))  # fmt: skip


def test_a_refused_install_changes_nothing_and_the_cli_names_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, public = keys(tmp_path / "keys", "ours")
    foreign, _ = keys(tmp_path / "keys", "foreign")
    bundle = signed(tmp_path, small_wheel(tmp_path / "w", "9.0.0"), foreign)
    data = trusting(tmp_path / "data", public)
    before = sorted(p.name for p in data.iterdir())
    with pytest.raises(manifest.Refused):
        asyncio.run(install(data, bundle))
    assert sorted(p.name for p in data.iterdir()) == before  # no slots directory, no pointer
    assert main(["bundle", "install", str(bundle), "--data", str(data)]) == 1
    assert "refused: the signature does not match" in capsys.readouterr().err
    assert not (data / "slots").exists()


def test_keygen_build_sign_verify_on_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "vendor.pem"
    assert main(["bundle", "keygen", str(key)]) == 0
    data = trusting(tmp_path / "data", (tmp_path / "vendor.pem.pub").read_text())
    out = tmp_path / "b.cpb"
    wheel = small_wheel(tmp_path / "w", __version__)
    assert (
        main(["bundle", "build", str(out), "--wheel", str(wheel), "--images", str(images(tmp_path / "i"))])
        == 0
    )
    assert main(["bundle", "verify", str(out), "--data", str(data)]) == 1  # unsigned
    assert main(["bundle", "sign", str(out), "--key", str(key)]) == 0
    assert main(["bundle", "verify", str(out), "--data", str(data)]) == 0
    assert "good signature, 5 parts, version %s" % __version__ in capsys.readouterr().out
    with tarfile.open(out) as tar:
        m = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert m["version"] == __version__ and m["format"] == manifest.FORMAT

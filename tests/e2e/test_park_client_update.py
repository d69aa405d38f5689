"""End to end, a signed bundle installed on a park's server updates the IO module of its client station
(docs/updates.md "Client stations"): two real heads as in test_park_two_heads (real mosquitto brokers
bridged on loopback, real micropython modules run from the sim board image). The server's installer sends
the client the image itself over the park link; the client's agent checks it, stores it in its own data
directory and runs the bus update; its progress comes back to the server's installer."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from chargepark.park import update as park_update
from chargepark.updatecli import run_update

from tests.e2e.test_bus_update_image import new_sim_image
from tests.e2e.test_head_sim import CHARGEPARK, cli, until
from tests.e2e.test_park_two_heads import (  # noqa: F401 - park: the fixture
    CLIENT_POINT,
    SERVER_POINT,
    Head,
    charge_at_client,
    park,
    read_store,
)
from tests.host.bundlekit import keys, trusting


def firmware(head: Head, uid: str) -> str:
    return str(read_store(head.data, lambda st: st.get("module", uid))["firmware_version"])


def install(server: Head, bundle: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHARGEPARK, "bundle", "install", str(bundle), "--data", str(server.data)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def new_images(tmp: Path) -> tuple[Path, str]:
    """out/images' sim board repacked with one more file (another firmware version) and its version."""
    return tmp / "images", new_sim_image(tmp / "images" / "sim", tmp)[:12]


@pytest.mark.slow
def test_a_bundle_installed_on_the_server_updates_the_clients_module(
    park: tuple[Head, Head],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, client = park
    images, version = new_images(tmp_path)
    bundle = tmp_path / "park.cpb"
    private, public = keys(tmp_path / "keys")
    for args in (
        ("build", str(bundle), "--images", str(images)),
        ("sign", str(bundle), "--key", str(private)),
    ):
        out = cli("bundle", *args)
        assert out.returncode == 0, out.stdout + out.stderr
    for uid in (SERVER_POINT, CLIENT_POINT):
        until("the server knows %s online" % uid, lambda u=uid: server.rest(
            "GET", "/charging-controllers/%s/data?param_list=bus_state" % u) == (200, {"bus_state": "online"}),
            120)  # fmt: skip
    old = firmware(client, CLIENT_POINT)
    assert old != version and firmware(server, CLIENT_POINT) == old

    # The client's point charges: judged on the server as its own. ForceUpdate off: refused, nothing sent.
    status, body = server.rest("PUT", "/charging-points/%s/config" % CLIENT_POINT,
                               {"release_charging_mode": "remote"})  # fmt: skip
    assert status == 200, body  # answered once the client's module runs it
    charge_at_client(server, client)
    trusting(server.data, public, ForceUpdate=False, PreUnavailabilityForUpdate=1)
    out = install(server, bundle)
    assert out.returncode == 1 and "ForceUpdate is off" in out.stderr, out.stdout + out.stderr
    assert CLIENT_POINT in out.stderr.split("charging at ")[1].split(" and ")[0]
    assert not (client.data / park_update.IMAGES).exists() and firmware(client, CLIENT_POINT) == old

    # Forced (the server's own point charges too, its simulated traffic): every point, the client's too,
    # held Unavailable for a second, then each module updated.
    trusting(server.data, public, ForceUpdate=True, PreUnavailabilityForUpdate=1)
    out = install(server, bundle)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log
    assert "station %s, position 1 installed (firmware %s)" % (CLIENT_POINT, version) in log, log
    assert "FAILED" not in log, log
    # the client module runs it: its agent's discovery records it, and the server has it from its report
    until(
        "the client's module reports the new firmware", lambda: firmware(client, CLIENT_POINT) == version, 60
    )
    until("the server shows the client module's new firmware",
          lambda: firmware(server, CLIENT_POINT) == version, 60)  # fmt: skip
    assert firmware(server, SERVER_POINT) == version  # its own module too, first
    # the image the client ran: stored whole in its own data directory
    (stored,) = (client.data / park_update.IMAGES).iterdir()
    assert (stored / "firmware.img").read_bytes() == (images / "sim" / "firmware.img").read_bytes()

    # An image that does not match its manifest: the client refuses it whole, the server counts it failed.
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text((images / "sim" / "manifest.json").read_text())
    (bad / "firmware.img").write_bytes(b"not the image")
    assert run_update(server.data, bad, [1], station=CLIENT_POINT, quiet=30) == 1
    said = capsys.readouterr().out
    assert "station %s, position 0 FAILED: refused by station %s: firmware.img does not match" % (
        CLIENT_POINT, CLIENT_POINT) in said, said  # fmt: skip
    assert [p.name for p in (client.data / park_update.IMAGES).iterdir()] == [stored.name]  # nothing written
    # A station that does not answer (no such client here): failed after the quiet time, not hung.
    t0 = time.monotonic()
    assert run_update(server.data, images / "sim", [1], station="CPC0009", quiet=3) == 1
    assert time.monotonic() - t0 < 15
    assert "no answer from the controller agent of station CPC0009 within 3 s" in capsys.readouterr().err

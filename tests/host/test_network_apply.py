"""Applying a network record below a root directory: atomic writes, secret modes, the dry run, the
command plan of each part (recorded, run as `true`) and the `chargepark network` command."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from chargepark.cli import main
from chargepark.config.areas import area
from chargepark.config.store import ConfigStore
from chargepark.network import apply, files, layout, modem
from chargepark.network.files import File, write_atomic
from chargepark.network.runner import Runner

TOOLS = ("systemctl", "networkctl", "hostnamectl", "nft", "ip", "mmcli")


def network(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = area("network").validate(changes)
    return record


def inert(**overrides: str) -> Runner:
    """Every system command runs as `true`: the plan is recorded, nothing on this machine changes."""
    return Runner(tools={**dict.fromkeys(TOOLS, "true"), **overrides})


AP = dict(wlan_enabled=True, wlan_ssid="cp", wlan_password="12345678", openvpn_mode="on",
          openvpn_config="client\nremote 10.0.0.1\n")  # fmt: skip


def test_apply_writes_every_file_with_its_mode_and_only_what_changed(tmp_path: Path) -> None:
    c = network(**AP)
    outcome = apply.apply(c, tmp_path, inert(), ["firewall", "eth0", "wlan", "routes", "openvpn"])
    assert outcome.ok, outcome.errors
    assert "/" + layout.ETH0_NETWORK in outcome.changed and "/" + layout.HOSTAPD in outcome.changed
    for secret in (layout.HOSTAPD, layout.OPENVPN):
        assert stat.S_IMODE((tmp_path / secret).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / layout.FIREWALL).stat().st_mode) == 0o644
    assert apply.apply(c, tmp_path, inert(), ["firewall", "eth0", "wlan", "routes", "openvpn"]).changed == []
    assert not list(tmp_path.rglob(".*.tmp"))

    off = apply.apply(network(), tmp_path, inert(), ["wlan", "openvpn"])
    assert {"/" + layout.HOSTAPD, "/" + layout.OPENVPN} <= set(off.changed)
    assert not (tmp_path / layout.HOSTAPD).exists() and not (tmp_path / layout.OPENVPN).exists()


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_atomic(tmp_path, File("etc/x.conf", "old\n"))

    def crash(src: Any, dst: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_atomic(tmp_path, File("etc/x.conf", "new\n" * 1000))
    assert (tmp_path / "etc/x.conf").read_text() == "old\n"
    assert sorted(p.name for p in (tmp_path / "etc").iterdir()) == ["x.conf"]  # no temporary file left


def test_the_command_plan_of_each_part(tmp_path: Path) -> None:
    runner = inert()
    c = network(hostname="cp-1", routes=[{"network": "10.9.0.0/16", "gateway": "10.0.0.1", "interface": "eth0",
                                          "metric": 3}], **AP)  # fmt: skip
    assert apply.apply(c, tmp_path, runner, ["firewall", "eth0", "wlan", "routes", "openvpn"]).ok
    plan = runner.record
    assert ["nft", "-f", "%s/%s" % (tmp_path, layout.FIREWALL)] in plan
    assert ["systemctl", "enable", "chargepark-firewall.service"] in plan
    assert plan.index(["nft", "-f", "%s/%s" % (tmp_path, layout.FIREWALL)]) < plan.index(
        ["hostnamectl", "set-hostname", "cp-1"]
    )
    assert ["networkctl", "reconfigure", "eth0"] in plan
    assert ["systemctl", "restart", layout.HOSTAPD_SERVICE] in plan
    assert ["systemctl", "disable", "--now", layout.WPA_SERVICE] in plan
    assert ["ip", "-force", "-batch", "%s/%s" % (tmp_path, layout.ROUTES)] in plan
    assert ["systemctl", "restart", layout.OPENVPN_SERVICE] in plan


def test_a_failing_part_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    runner = inert(nft="false")
    outcome = apply.apply(network(), tmp_path, runner, ["firewall", "eth0"])
    assert list(outcome.errors) == ["firewall"] and "nft -f" in outcome.errors["firewall"]
    assert ["networkctl", "reload"] in runner.record


def test_modem_off_tears_down_quietly_and_on_without_a_bearer_fails_loudly(tmp_path: Path) -> None:
    runner = inert(mmcli="false")  # no modem answers
    assert apply.apply(network(), tmp_path, runner, ["modem"]).ok
    assert runner.record == [
        ["systemctl", "disable", layout.MODEM_SERVICE],
        ["mmcli", "-m", "any", "--simple-disconnect"],
        ["mmcli", "-m", "any", "--disable"],
    ]
    failing = inert(mmcli="false")
    on = apply.apply(network(modem_enabled=True, apn="web"), tmp_path, failing, ["modem"])
    assert "mmcli -m any --enable" in on.errors["modem"]
    # The modem unit is enabled before the connection is tried: a modem not there yet is connected at boot.
    assert failing.record[0] == ["systemctl", "enable", layout.MODEM_SERVICE]


def test_restart_modem_service_resets_it_and_lets_the_modem_unit_connect_it_again() -> None:
    runner = inert()
    modem.restart(runner)
    assert runner.record == [["mmcli", "-m", "any", "--reset"],
                             ["systemctl", "restart", "--no-block", layout.MODEM_SERVICE]]  # fmt: skip


def test_dry_run_prints_files_and_commands_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ConfigStore.open(tmp_path / "config.db")
    store.put("network", {"dhcp": False, "ip_address": "192.168.1.20", "gateway": "192.168.1.1"})
    root = tmp_path / "root"
    assert main(["network", "apply", "--dry-run", "--data", str(tmp_path), "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "--- /%s (mode 644)\n" % layout.ETH0_NETWORK in out and "Address=192.168.1.20/24" in out
    assert "would run: nft -f %s/%s" % (root, layout.FIREWALL) in out
    assert "would run: networkctl reconfigure eth0" in out
    assert "--- remove" not in out  # nothing there to remove
    assert not root.exists()


def test_vpn_import_keeps_the_text_out_of_the_store(tmp_path: Path) -> None:
    ovpn = tmp_path / "site.ovpn"
    ovpn.write_text("client\nremote 10.1.1.1\n<key>\nSECRET\n</key>\n")
    root = tmp_path / "root"
    assert main(["network", "--data", str(tmp_path), "--root", str(root), "vpn", "import", str(ovpn)]) == 0
    saved = root / layout.OPENVPN_IMPORTED
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600 and "SECRET" in saved.read_text()
    record = ConfigStore.open(tmp_path / "config.db").get("network")
    assert record["openvpn_imported"] == "site.ovpn" and "SECRET" not in json.dumps(record)
    files_ = apply.PARTS["openvpn"](
        network(openvpn_mode="on", openvpn_imported="site.ovpn"), saved.read_text()
    )
    assert files_[0].text is not None and "SECRET" in files_[0].text


def test_describe_lists_only_existing_files_for_removal(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/old.conf").write_text("x")
    text = files.describe(tmp_path, [File("etc/old.conf", None), File("etc/never.conf", None)])
    assert text == "--- remove /etc/old.conf\n"


def test_disabling_what_is_not_installed_is_no_error_but_enabling_it_is(tmp_path: Path) -> None:
    """A head without hostapd, wpa_supplicant or openvpn: `systemctl disable` fails there, harmlessly."""
    systemctl = tmp_path / "systemctl"  # knows no unit: every command but daemon-reload fails
    systemctl.write_text('#!/bin/sh\n[ "$1" = daemon-reload ]\n')
    systemctl.chmod(0o755)
    parts = ["wlan", "openvpn"]
    assert apply.apply(network(), tmp_path, inert(systemctl=str(systemctl)), parts).ok
    failed = apply.apply(network(**AP), tmp_path, inert(systemctl=str(systemctl)), parts)
    assert set(failed.errors) == {"wlan", "openvpn"}

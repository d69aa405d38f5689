"""The head's systemd unit: `systemd-analyze verify` accepts it, its ExecStart, run as systemd would,
reaches the entry point of the slot `active` names (the bundle installer's A/B switch), else this install;
as root it grants exactly the capabilities of systemd/rights.py, lets the backends write every file they
own, and names the roots that make them apply to the machine. tests/e2e/test_network_netns.py runs the
network backend with the unit's bounding set."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from chargepark import __version__
from chargepark.bundle import slots
from chargepark.cli import build_parser
from chargepark.config.areas import area
from chargepark.network import apply, host, layout
from chargepark.network.runner import Runner
from chargepark.systemd import MODEM_UNIT, UNIT, install, rights
from chargepark.wbm import systemhost

# A slot's whole head, reduced to what tells it apart: its entry point records where it ran from.
FAKE_CLI = """\
import json, os, sys
def main(argv):
    with open(os.path.join(os.environ["LAUNCHED_TO"]), "w") as f:
        json.dump({"cli": __file__, "argv": argv, "slot": %r}, f)
    return 0
"""


def _unit(tmp: Path, data: Path, user: str = "root", unit: str = UNIT) -> Path:
    written = {p.name: p for p in install(tmp / "units", data, user)}
    assert set(written) == ({UNIT, MODEM_UNIT} if user == "root" else {UNIT})
    return written[unit]


def _settings(unit: Path) -> dict[str, list[str]]:
    """Key -> its values, space-separated words of every line (systemd's list settings add up)."""
    out: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            out.setdefault(key, []).extend(value.split())
    return out


def _exec_start(unit: Path) -> list[str]:
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def _fake_slot(data: Path, slot: str) -> Path:
    pkg = slots.site(data, slot) / "chargepark"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text(FAKE_CLI % slot)
    return pkg / "cli.py"


def _launched_version(tmp: Path, data: Path) -> str:
    """The unit's launcher with `version` for the head's arguments (a command that ends at once)."""
    argv = _exec_start(_unit(tmp, data))
    done = subprocess.run([*argv[: argv.index("run")], "version"], env={"PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    return done.stdout.split()[-1]


@pytest.mark.parametrize(("user", "name"), [("root", UNIT), ("chargepark", UNIT), ("root", MODEM_UNIT)])
def test_systemd_analyze_verifies_the_unit(tmp_path: Path, user: str, name: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    unit = _unit(tmp_path, data, user, name)  # ExecStart is this interpreter: a binary that exists
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


def test_as_root_the_unit_grants_exactly_what_the_rights_table_needs(tmp_path: Path) -> None:
    unit = _settings(_unit(tmp_path, tmp_path / "data"))
    needed = {cap for p in rights.PROGRAMS.values() for cap in p.caps} | set(rights.ACTS)
    assert set(unit["CapabilityBoundingSet"]) == needed
    assert {"CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_SYS_TIME"} <= needed
    assert "CAP_SYS_ADMIN" not in needed  # the hostname goes through hostnamed, not sethostname(2)
    assert unit["User"] == ["root"] and "AmbientCapabilities" not in unit  # root: the bounding set is its set
    assert set(unit["Environment"]) == {host.ENV + "=/", systemhost.ENV + "=/"}
    assert unit["NoNewPrivileges"] == ["yes"] and unit["ProtectSystem"] == ["strict"]
    assert "PrivateTmp" not in unit  # wpa_cli's reply socket in /tmp


def test_the_modem_unit_applies_the_stored_modem_part_with_the_heads_rights(tmp_path: Path) -> None:
    data = tmp_path / "data"
    modem_unit, head = _settings(_unit(tmp_path, data, unit=MODEM_UNIT)), _settings(_unit(tmp_path, data))
    assert modem_unit["ExecStart"][0] == head["ExecStart"][0]  # the launcher: the active slot's head
    argv = modem_unit["ExecStart"][modem_unit["ExecStart"].index(str(data.resolve())) + 1 :]
    args = build_parser().parse_args(argv)
    assert (args.command, args.network_command, args.part, args.data) == (
        "network",
        "apply",
        ["modem"],
        str(data.resolve()),
    )
    assert str(args.root) == "/"
    for key in ("CapabilityBoundingSet", "ReadWritePaths", "NoNewPrivileges", "ProtectSystem"):
        assert modem_unit[key] == head[key]
    assert modem_unit["Restart"] == ["on-failure"] and modem_unit["Type"] == ["oneshot"]
    assert layout.MODEM_SERVICE == MODEM_UNIT  # the name the backend enables


def test_a_root_head_applies_to_slash_and_runs_the_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = _settings(_unit(tmp_path, tmp_path / "data"))
    for setting in unit["Environment"]:
        monkeypatch.setenv(*setting.split("=", 1))
    network, system = host.for_data(tmp_path / "data"), systemhost.for_data(tmp_path / "data")
    assert (network.root, network.system, system.root, system.system) == (Path("/"), True, Path("/"), True)


def _writable(path: str, unit: dict[str, list[str]]) -> bool:
    allowed = [*unit["ReadWritePaths"], *("/run/" + d for d in unit["RuntimeDirectory"])]
    return any(Path(path).is_relative_to(p) for p in allowed)


def test_every_file_the_backends_write_is_writable_under_the_unit(tmp_path: Path) -> None:
    data = tmp_path / "data"
    unit = _settings(_unit(tmp_path, data))
    # Every path of the network layout (relative ones below the root "/"), and System Control's files.
    paths = [v for k, v in vars(layout).items() if k.isupper() and isinstance(v, str) and "/" in v]
    paths = ["/" + p.lstrip("/") for p in [*paths, systemhost.TIMESYNCD, systemhost.SHADOW]]
    assert "/etc/systemd/network/10-chargepark-eth0.network" in paths and "/etc/shadow" in paths
    assert [p for p in paths if not _writable(p, unit)] == []
    assert _writable(str(data.resolve() / "store.json"), unit)
    assert not _writable("/usr/lib/x", unit) and not _writable("/var/lib/other", unit)


def test_an_unprivileged_head_owns_nothing_but_may_bind_the_low_ports(tmp_path: Path) -> None:
    unit = _settings(_unit(tmp_path, tmp_path / "data", "chargepark"))
    assert unit["CapabilityBoundingSet"] == unit["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]
    assert "Environment" not in unit  # the backends write below the data directory and list commands
    assert unit["ReadWritePaths"] == [str((tmp_path / "data").resolve())]


def test_the_runner_refuses_a_program_the_unit_does_not_grant() -> None:
    for runner in (Runner(dry_run=True), host.Listed()):
        with pytest.raises(PermissionError, match=r"rights\.py"):
            runner.run(["hostname", "x"])  # sethostname(2) would need CAP_SYS_ADMIN
        assert runner.record == []


WHOLE = dict(wlan_enabled=True, wlan_ssid="cp", wlan_password="12345678", ap_timeout_s=60, modem_enabled=True,
             apn="internet", modem_default_route=True, openvpn_mode="on", openvpn_config="client\nremote 10.0.0.1\n",
             routes=[{"network": "10.9.0.0/16", "gateway": "10.0.0.1", "interface": "eth0", "metric": 3}])  # fmt: skip


@pytest.mark.parametrize(
    "changes",
    [WHOLE, dict(WHOLE, wlan_mode="infrastructure", openvpn_mode="on_request", modem_enabled=False), {}],
)
def test_every_command_a_plan_runs_is_granted(tmp_path: Path, changes: dict[str, object]) -> None:
    """Each part's plan in each mode (a dry run: nothing runs), and System Control's commands."""
    runner = Runner(dry_run=True, echo=open(tmp_path / "log", "w"))
    outcome = apply.apply(area("network").validate(changes), tmp_path, runner, out=runner.echo)
    assert outcome.ok, outcome.errors
    assert {"nft", "systemctl", "networkctl", "hostnamectl"} <= {argv[0] for argv in runner.record}
    listing = systemhost.SystemHost(tmp_path, system=False)  # its runner refuses what is not granted
    listing.set(0)
    assert listing.apply_ntp(True, ["ntp.example"])[0].startswith("timedatectl ")


def test_exec_start_runs_the_active_slot_and_follows_the_switch(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clis = {s: _fake_slot(data, s) for s in slots.SLOTS}
    argv = _exec_start(_unit(tmp_path, data))
    assert argv[0] == sys.executable and argv[-4:] == ["run", "--data", str(data.resolve()), "--no-table"]
    record = tmp_path / "launched.json"
    for slot in ("a", "b", "a"):
        slots.set_active(data, slot)
        env = {"LAUNCHED_TO": str(record), "PATH": "/usr/bin:/bin"}  # systemd's bare environment
        subprocess.run(argv, env=env, cwd=data, check=True, timeout=30)
        launched = json.loads(record.read_text())
        assert launched["slot"] == slot and Path(launched["cli"]) == clis[slot]
        assert launched["argv"] == ["run", "--data", str(data.resolve()), "--no-table"]


def test_with_no_slot_active_the_system_install_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fake_slot(data, "a")  # present, but `active` names no slot
    assert _launched_version(tmp_path, data) == __version__


def test_an_active_slot_whose_site_is_gone_falls_back_to_the_system_install(tmp_path: Path) -> None:
    data = tmp_path / "data"
    slots.root(data).mkdir(parents=True)
    slots.set_active(data, "b")
    assert _launched_version(tmp_path, data) == __version__

"""The `chargepark` command without a running head: clear errors, systemd unit, parser."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from chargepark.cli import build_parser, main
from chargepark.runtime import runtime_path


def test_service_status_without_a_head_is_a_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["service", "status", "--data", str(tmp_path)]) == 1
    assert "no running head" in capsys.readouterr().err


def test_sim_without_a_park_is_a_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["sim", "--data", str(tmp_path), "--point", "1", "plug"]) == 1
    assert "no simulated park" in capsys.readouterr().err


def test_systemd_install_writes_a_unit_running_the_supervisor(tmp_path: Path) -> None:
    assert main(["systemd", "--dest", str(tmp_path), "--data", "/var/lib/cp", "--user", "cp"]) == 0
    unit = (tmp_path / "chargepark.service").read_text()
    assert "ExecStart=" in unit and " run --data /var/lib/cp --no-table" in unit
    assert "User=cp" in unit and "Restart=always" in unit and "@" not in unit


def test_every_command_is_there() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"run", "service", "config", "update", "sim", "flash", "systemd", "version"} <= set(sub.choices)  # type: ignore[arg-type]


def test_installed_entry_point_prints_the_version() -> None:
    exe = Path(sys.executable).with_name("chargepark")
    done = subprocess.run([str(exe), "version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("chargepark ")


def test_run_refuses_a_port_in_use_with_a_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(
            ["run", "--data", str(tmp_path), "--mqtt-port", str(port), "--rest-port", "0", "--web-port", "0"]
        )
    assert code == 1
    err = capsys.readouterr().err
    assert "port(s) in use: MQTT %d" % port in err and "--broker" in err
    assert not runtime_path(tmp_path).exists()


def test_run_takes_its_ports_and_broker_from_the_store_and_flags_override(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    def run(*flags: str) -> str:
        assert main(["run", "--data", str(tmp_path), *flags]) == 1
        return str(capsys.readouterr().err)

    def configure(**fields: object) -> None:
        assert main(["config", "--data", str(tmp_path), "set", "system", json.dumps(fields)]) == 0

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        configure(mqtt_port=port)
        assert "port(s) in use: MQTT %d." % port in run("--rest-port", "0", "--web-port", "0")
        assert "port(s) in use: WBM %d." % port in run(
            "--mqtt-port", "0", "--rest-port", "0", "--web-port", str(port)
        )
        configure(mqtt_port=1883, web_port=port)
        assert "port(s) in use: WBM %d." % port in run("--mqtt-port", "0", "--rest-port", "0")
        # A configured system broker: our own broker's port is not ours to check; --broker '' brings it back.
        configure(mqtt_system_broker="127.0.0.1:%d" % port, mqtt_port=port)
        assert "port(s) in use: WBM %d." % port in run("--rest-port", "0")
        assert "port(s) in use: MQTT %d, WBM %d." % (port, port) in run("--rest-port", "0", "--broker", "")


def test_config_takes_data_and_store_before_or_after_its_subcommand(
    tmp_path: Path,
    monkeypatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    def name(*args: str) -> str:
        assert main(["config", *args]) == 0
        record = json.loads(capsys.readouterr().out)
        return str(record["system"]["name"] if "system" in record else record["name"])

    monkeypatch.chdir(tmp_path)  # the default ./var would land here
    data = tmp_path / "data"
    data.mkdir()
    assert name("set", "system", '{"name": "after"}', "--data", str(data)) == "after"
    assert name("show", "system", "--data", str(data)) == "after"
    assert name("--data", str(data), "show", "system") == "after"
    other = str(tmp_path / "other.db")
    assert name("--data", str(data), "set", "system", '{"name": "store"}', "--store", other) == "store"
    assert name("show", "system", "--store", other) == "store"
    assert name("--store", other, "show", "system") == "store"
    assert name("--data", str(data), "show", "system") == "after"
    assert not (tmp_path / "var").exists()


def test_service_status_table_keeps_every_column_but_the_notes_on_one_line(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from chargepark import control

    services = [
        {"name": "controller-agent", "state": "running", "version": "0.1.0", "pid": 4242, "uptime_s": 12.5,
         "restarts": 1, "last_error": "exit 1: " + "the bus adapter went away " * 4},
        {"name": "ocpp16", "state": "not installed", "version": "-", "pid": None, "uptime_s": 0,
         "restarts": 0, "last_error": "arrives with its issue"},
    ]  # fmt: skip
    monkeypatch.setattr(control, "request", lambda data, req: {"ok": True, "services": services})
    monkeypatch.setenv("COLUMNS", "80")  # not a terminal: rich lays the table out for this width
    assert main(["service", "status", "--data", "unused"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines)
    header = next(i for i, line in enumerate(lines) if line.startswith("service"))
    assert lines[header].split()[:7] == ["service", "state", "version", "pid", "uptime", "s", "restarts"]
    assert lines[header + 1].split()[:6] == ["controller-agent", "running", "0.1.0", "4242", "12.5", "1"]
    assert lines[header + 2].split() == ["bus", "adapter"]  # the long note folds under itself
    row = next(line for line in lines if line.startswith("ocpp16"))
    assert row.split()[:7] == ["ocpp16", "not", "installed", "-", "-", "0", "0"]


def test_sim_verbs_and_their_arguments_come_from_the_sim_control_table() -> None:
    from chargepark import simctl
    from simboard.runner import SIM

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    sim = sub.choices["sim"]  # type: ignore[index]
    action = next(a for a in sim._actions if a.dest == "action")
    assert list(action.choices) == SIM.names()  # type: ignore[arg-type]
    assert simctl.arguments("fault", ["weld", "on"]) == {"name": "weld", "on": True}
    assert simctl.arguments("plug", ["20"]) == {"cable_a": 20}
    assert simctl.arguments("ev", ["max_a=16", "stubborn=true"]) == {"max_a": 16, "stubborn": True}
    assert simctl.arguments("rfid", ["04A1"]) == {"tag": "04A1"}
    with pytest.raises(ValueError, match="no argument warp"):
        simctl.arguments("ev", ["warp=9"])
    with pytest.raises(ValueError, match="at most 0 arguments"):
        simctl.arguments("unplug", ["now"])

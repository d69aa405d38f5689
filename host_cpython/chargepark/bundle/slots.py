"""A/B slots of the head software under `<data>/slots/`: `a/` and `b/`, each a `site/` the head's wheel is
installed into, and `active`, the name of the slot the head starts from (absent: the system's install).

A new head goes into the inactive slot; `active` moves to it, and back when the slot fails its health
check: its `chargepark version` prints the bundle's version, and a supervisor started from it (scratch
data: a copy of the store, any free ports) reports its services running within the timeout (`CHECKED`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chargepark.config import ConfigStore
from chargepark.config.cli import STORE_FILE
from chargepark.runtime import free_port, runtime_path
from chargepark.services.registry import SERVICES

SLOTS = ("a", "b")
CHECK_TIMEOUT_S = 60.0
# The check head runs beside the running one, which holds the bus and the remote broker's client id: every
# installed service but the bus master and the bridge. (A simulated bus is no option: the wheel carries no
# boards/ directory, and a real head's check must not depend on the development tree.)
CHECKED = tuple(s.name for s in SERVICES if s.installed and s.name not in ("controller-agent", "mqtt-bridge"))


class HealthFailed(Exception):
    """The new slot's head did not come up; the reason is for the user."""


def root(data: Path) -> Path:
    return data / "slots"


def active(data: Path) -> str | None:
    pointer = root(data) / "active"
    return pointer.read_text().strip() if pointer.exists() else None


def set_active(data: Path, slot: str | None) -> None:
    """Moves the pointer atomically (None: back to the system's install)."""
    pointer = root(data) / "active"
    if slot is None:
        pointer.unlink(missing_ok=True)
        return
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(slot + "\n")
    os.replace(tmp, pointer)


def inactive(data: Path) -> str:
    return "b" if active(data) == "a" else "a"


def site(data: Path, slot: str) -> Path:
    return root(data) / slot / "site"


def install_head(data: Path, slot: str, wheel: Path, deps: Path | None = None) -> Path:
    """Installs the wheel into the slot. Without `deps` the running environment's dependencies serve;
    with them (the bundle's wheel directory) the slot holds the whole dependency closure from the bundle,
    nothing from the network (pip's --target ignores what is installed elsewhere), and a requirement the
    bundle does not carry fails the install."""
    target = site(data, slot)
    shutil.rmtree(target, ignore_errors=True)  # what an earlier install left in this slot
    target.mkdir(parents=True)
    resolve = ["--no-index", "--find-links", str(deps)] if deps else ["--no-deps"]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", *resolve, "--no-compile", "--target", str(target),
         str(wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode:
        raise HealthFailed("pip could not install %s: %s" % (wheel.name, proc.stderr.strip()[-400:]))
    return target


def slot_env(data: Path, slot: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(site(data, slot))
    env["PYTHONSAFEPATH"] = "1"  # the slot's code, not whatever the working directory holds
    env.pop("CHARGEPARK_RUNTIME", None)
    return env


def cli_argv(*args: str) -> list[str]:
    """The head's CLI run by this interpreter, from whatever `PYTHONPATH` the environment gives."""
    return [sys.executable, "-c", "import sys; from chargepark.cli import main; sys.exit(main(sys.argv[1:]))",
            *args]  # fmt: skip


def check_version(data: Path, slot: str, want: str) -> None:
    proc = subprocess.run(cli_argv("version"), env=slot_env(data, slot), capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    if proc.returncode or proc.stdout.split()[-1:] != [want]:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise HealthFailed("`chargepark version` of slot %s: exit %d, %s" % (slot, proc.returncode, last[0]))


def _services(run_dir: Path) -> list[dict[str, object]]:
    """The supervisor's service table, read over its broker (the runtime file names the port)."""
    import paho.mqtt.subscribe as subscribe

    from chargepark import topics
    from chargepark.runtime import load

    rt = load(runtime_path(run_dir))
    msg = subscribe.simple(topics.SERVICES, hostname=rt.mqtt_host, port=rt.mqtt_port)  # type: ignore[no-untyped-call]
    if isinstance(msg, list):
        msg = msg[0]
    table: list[dict[str, object]] = json.loads(msg.payload)
    return table


def _scratch_store(store: Path, copy: Path) -> None:
    """The running store, copied; the ports the running head holds moved to free ones."""
    if store.exists():
        with sqlite3.connect(store) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
    scratch = ConfigStore.open(copy)
    try:
        scratch.put("modbus", dict(scratch.get("modbus"), server_port=free_port()))
    finally:
        scratch.close()


def check_supervisor(data: Path, slot: str, timeout: float = CHECK_TIMEOUT_S) -> None:
    """Starts the slot's head on a copy of the store and waits for every installed service to run."""
    with tempfile.TemporaryDirectory(prefix="slot-check-", dir=root(data)) as scratch:
        check = Path(scratch)
        _scratch_store(data / STORE_FILE, check / STORE_FILE)
        argv = cli_argv("run", "--data", str(check), "--mqtt-port", "0", "--rest-port", "0",
                    "--web-port", "0", "--no-table",
                    "--services", ",".join(CHECKED))  # fmt: skip
        log = open(check / "head.log", "wb")  # closed below, after the child
        proc = subprocess.Popen(argv, env=slot_env(data, slot), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        try:
            _wait_running(proc, check, timeout)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            log.close()


def _wait_running(proc: subprocess.Popen[bytes], check: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    states: dict[str, object] = {}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (check / "head.log").read_text(errors="replace").strip().splitlines()[-1:] or [""]
            raise HealthFailed("the new head exited with %d: %s" % (proc.returncode, tail[0]))
        if runtime_path(check).exists():
            try:
                table = _services(check)
            except (OSError, ValueError):
                table = []
            states = {
                str(s["name"]): s["state"]
                for s in table
                if s.get("state") not in ("not installed", "disabled")
            }
            if states and all(v == "running" for v in states.values()):
                return
        time.sleep(0.5)
    raise HealthFailed("services not running within %.0f s: %s" % (timeout, states or "no service table"))


def health_check(data: Path, slot: str, version: str, timeout: float = CHECK_TIMEOUT_S) -> None:
    check_version(data, slot, version)
    check_supervisor(data, slot, timeout)

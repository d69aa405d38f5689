"""The local message bus: a real mosquitto on loopback with a generated configuration."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import time
from pathlib import Path

from chargepark import topics
from chargepark.network.files import File, write_atomic
from chargepark.park import auth as park_auth
from chargepark.procs import start_child

CANDIDATES = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")

# The QoS 1 messages the broker holds for one subscriber that falls behind (the bridge mosquitto while it
# restarts on a change, a busy service), sized for the largest station: QUEUE_ROUNDS times every data
# parameter and the `live` message of PARK_POINTS points. Beyond it mosquitto drops and counts the drop in
# `$SYS/broker/publish/messages/dropped` (the bridge reports it, bridge/status.py).
PARK_POINTS = 250
QUEUE_ROUNDS = 10
QUEUE = PARK_POINTS * (len(topics.DATA_PARAMS) + 1) * QUEUE_ROUNDS
DROPPED = "$SYS/broker/publish/messages/dropped"


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or next((c for c in CANDIDATES if Path(c).exists()), None)
    if not found:
        raise RuntimeError("mosquitto is not installed (Debian: apt-get install mosquitto)")
    return found


def render_config(
    host: str,
    port: int,
    queue: int = QUEUE,
    listeners: tuple[tuple[str, int], ...] = (),
    bridge: str = "",
    listen_auth: str = "",
) -> str:
    # Loopback and anonymous: the local bus is the services' own; a remote bridge is configured apart.
    # `listeners` = further (host, port) ones: a park server's ETH1 address (park/link.py), never anonymous;
    # `listen_auth` = their password and ACL files (park/auth.py; none = nobody gets in there);
    # `bridge` = a park client's connection to its server.
    # `user` = ourselves: a root mosquitto would otherwise switch to user "mosquitto", and that change of
    # credentials clears PR_SET_PDEATHSIG (the broker would outlive a killed supervisor).
    further = "".join("listener %d %s\nallow_anonymous false\n%s" % (p, h, listen_auth) for h, p in listeners)
    lines = [
        "user %s" % pwd.getpwuid(os.getuid()).pw_name,
        "per_listener_settings true",  # each listener's settings follow its `listener` line
        "persistence false",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "max_queued_messages %d" % queue,
        "listener %d %s" % (port, host),
        "allow_anonymous true",
        "",
    ]
    return "\n".join(lines) + further + bridge


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


async def wait_port(
    host: str, port: int, timeout: float, proc: asyncio.subprocess.Process | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if proc is not None and proc.returncode is not None:
            raise RuntimeError("mosquitto exited with %s before listening on %d" % (proc.returncode, port))
        if time.monotonic() > deadline:
            raise RuntimeError("mosquitto did not listen on %s:%d within %.0f s" % (host, port, timeout))
        await asyncio.sleep(0.05)


async def start_broker(
    run_dir: Path,
    host: str,
    port: int,
    log_path: Path,
    listeners: tuple[tuple[str, int], ...] = (),
    bridge: str = "",
    park_password: str = "",
) -> asyncio.subprocess.Process:
    """Starts mosquitto and returns once it accepts connections on every listener. The further listeners
    take the park's clients that log in with `park_password`; the configuration is 0600 (a client's
    bridge holds that password)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    listen_auth = park_auth.install(run_dir, park_password) if listeners else ""
    text = render_config(host, port, listeners=listeners, bridge=bridge, listen_auth=listen_auth)
    write_atomic(run_dir, File("mosquitto.conf", text, 0o600))
    proc = await start_child([mosquitto_binary(), "-c", str(run_dir / "mosquitto.conf")], log_path)
    for h, p in ((host, port), *listeners):
        await wait_port(h, p, 10.0, proc)
    return proc

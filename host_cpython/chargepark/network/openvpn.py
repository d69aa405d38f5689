"""The OpenVPN client: the configuration (pasted, or an imported file kept outside the store) made into the
client file of `openvpn-client@chargepark`, the activation modes, the test connection with its log, and
the status from the client's management socket."""

from __future__ import annotations

import ipaddress
import os
import select
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chargepark.network import layout
from chargepark.network.files import HEADER, File, write_atomic
from chargepark.network.runner import Runner, Tolerant

Record = dict[str, Any]
READY = "Initialization Sequence Completed"


def client_conf(text: str, *, managed: bool = True) -> str:
    """The configuration as the client runs it: a `tap` device becomes `tun` (the manual: only tun is
    supported; the change happens in the background); `managed` adds the management socket and status
    file the WBM status reads."""
    out, block = [], ""
    for line in text.splitlines():
        words = line.split()
        if block:
            block = "" if words[:1] == ["</%s>" % block] else block
        elif words[:1] and words[0].startswith("<") and not words[0].startswith("</"):
            block = words[0].strip("<>")  # inline <ca>, <cert>, <key>, ...: copied untouched
        elif len(words) > 1 and words[0] == "dev" and words[1].startswith("tap"):
            out.append("# chargepark: was %r (only tun is supported)" % line.strip())
            line = "dev tun"
        elif words[:2] == ["dev-type", "tap"]:
            out.append("# chargepark: was 'dev-type tap' (only tun is supported)")
            line = "dev-type tun"
        out.append(line)
    if managed:
        out += [
            "# " + HEADER,
            "management %s unix" % layout.OPENVPN_MANAGEMENT,
            "status %s 10" % layout.OPENVPN_STATUS,
        ]
    return "\n".join(out) + "\n"


def source(c: Record, imported: str | None) -> str:
    """The pasted configuration, else the imported file (the manual: delete the pasted one to import)."""
    if c["openvpn_config"].strip():
        text: str = c["openvpn_config"]
        return text
    return imported or "" if c["openvpn_imported"] else ""


def runtime_tmpfiles() -> str:
    """systemd-tmpfiles: the directory of the management socket and status file, made at boot."""
    return "# %s\nd %s 0755 root root -\n" % (HEADER, os.path.dirname(layout.OPENVPN_MANAGEMENT))


def render(c: Record, imported: str | None) -> list[File]:
    text = source(c, imported)
    on = bool(text.strip())
    return [
        File(layout.OPENVPN, client_conf(text) if on else None, 0o600),
        File(layout.RUNTIME_TMPFILES, runtime_tmpfiles() if on else None),
    ]


def commands(c: Record) -> list[list[str]]:
    unit = layout.OPENVPN_SERVICE
    if c["openvpn_mode"] == "on":  # permanently activated: at boot and now
        return [["systemctl", "enable", unit], ["systemctl", "restart", unit]]
    if (
        c["openvpn_mode"] == "on_request"
    ):  # started by `vpn up` (the remote MQTT command); a running one reloads
        return [["systemctl", "disable", unit], ["systemctl", "try-restart", unit]]
    return [Tolerant(["systemctl", "disable", "--now", unit])]  # also where openvpn is not installed


def up(runner: Runner) -> None:
    runner.run(["systemctl", "start", layout.OPENVPN_SERVICE])


def down(runner: Runner) -> None:
    runner.run(["systemctl", "stop", layout.OPENVPN_SERVICE])


class NotOnRequest(ValueError):
    """A switch while the activation mode is not On Request (boot and apply own the client then)."""


SWITCH = {"up": up, "down": down}


def switch(runner: Runner, c: Record, action: str) -> None:
    """On Request: start ("up") or stop ("down") the client (the WBM, the remote broker's command)."""
    if c["openvpn_mode"] != "on_request":
        raise NotOnRequest("only with the activation mode On Request (it is %r)" % c["openvpn_mode"])
    SWITCH[action](runner)


def import_file(root: Path, text: str) -> None:
    """Keep an imported configuration where only root reads it; the store holds only its file name."""
    write_atomic(root, File(layout.OPENVPN_IMPORTED, text, 0o600))


def delete_imported(root: Path) -> None:
    write_atomic(root, File(layout.OPENVPN_IMPORTED, None))


def read_imported(root: Path) -> str | None:
    try:
        return (root / layout.OPENVPN_IMPORTED).read_text()
    except OSError:
        return None


def test_connection(runner: Runner, text: str, *, timeout: float = 20.0) -> tuple[bool, str]:
    """TEST VPN CONNECTION: run the client on `text` until it is connected, fails or `timeout` passes,
    without touching addresses or routes; (connected, the client's log)."""
    fd, path = tempfile.mkstemp(prefix="chargepark-vpn-test-", suffix=".conf")
    try:
        os.write(fd, client_conf(text, managed=False).encode())
        os.close(fd)
        argv = ["openvpn", "--config", path, "--ifconfig-noexec", "--route-noexec", "--verb", "3"]
        proc = runner.spawn(argv)
        assert proc.stdout is not None
        pipe = proc.stdout.fileno()  # read the pipe itself: a buffered readline would hide lines from select
        seen = b""
        connected = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not connected:
            ready, _, _ = select.select([pipe], [], [], 0.2)
            chunk = os.read(pipe, 65536) if ready else b""
            if ready and not chunk:
                break  # the client exited
            seen += chunk
            connected = READY.encode() in seen
        log = [seen.decode(errors="replace")]
        timed_out = not connected and proc.poll() is None
        proc.terminate()
        try:
            rest, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
        log.append(rest)
        if timed_out:
            log.append("chargepark: no connection within %g s\n" % timeout)
        return connected, "".join(log)
    finally:
        Path(path).unlink(missing_ok=True)


# ---- status (manual "OpenVPN Status") ---------------------------------------------------------------


def server_ip(text: str) -> str:
    """The server address of the first `remote` line if it is an IP address (no DNS resolution)."""
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["remote"] and len(words) > 1:
            try:
                return str(ipaddress.ip_address(words[1]))
            except ValueError:
                return ""
    return ""


def management_state(sock_path: str, timeout: float = 2.0) -> list[str]:
    """The `state` line of the client's management interface, split; [] if it does not answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(sock_path)
            s.sendall(b"state\n")
            data = b""
            while b"\nEND" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return []
    for line in data.decode(errors="replace").splitlines():
        if line[:1].isdigit():
            return line.split(",")
    return []


def status(config_text: str, sock_path: str = layout.OPENVPN_MANAGEMENT) -> Record:
    state = management_state(sock_path)
    connected = len(state) > 3 and state[1] == "CONNECTED"
    since = datetime.fromtimestamp(int(state[0]), UTC) if connected else None
    return {
        "status": "connected" if connected else "not connected",
        "server_ip": server_ip(config_text),
        "private_ip": state[3] if connected else "",
        "connected_since": since.strftime("%Y-%m-%dT%H:%M:%SZ") if since else "",
        "connected_s": int(time.time() - since.timestamp()) if since else 0,
    }

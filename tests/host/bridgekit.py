"""Helpers for the bridge tests: a second real mosquitto as the remote broker (password file, optional TLS
with a throwaway CA), the bridge service run in-process against a real head broker."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import pwd
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
from chargepark import topics
from chargepark.bridge.service import Bridge
from chargepark.broker import mosquitto_binary, wait_port
from chargepark.config import ConfigStore
from chargepark.mqtt import MqttLink
from chargepark.procs import stop_child
from chargepark.runtime import Runtime, free_port
from chargepark.services.mqtt_bridge.spec import SPEC
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

USER, PASSWORD = "fleet", "s3cret"
STATION = "d5ae6274053159d4"
POINTS = ("pt-a", "pt-b")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return key, cert


def make_server_cert(ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], out: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca[1].subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(ca[0], hashes.SHA256())
    )  # fmt: skip
    certfile, keyfile = out / "server.crt", out / "server.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certfile, keyfile


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class RemoteBroker:
    """The fleet operator's broker: a real mosquitto, with users, persistence (a restart keeps sessions)."""

    def __init__(self, root: Path, tls: tuple[Path, Path] | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None
        root.mkdir(parents=True, exist_ok=True)
        pw = root / "passwd"
        subprocess.run(
            ["mosquitto_passwd", "-b", "-c", str(pw), USER, PASSWORD], check=True, capture_output=True
        )
        lines = ["user %s" % pwd.getpwuid(os.getuid()).pw_name, "listener %d 127.0.0.1" % self.port, "allow_anonymous false", "password_file %s" % pw,
                 "persistence true", "persistence_location %s/" % root, "autosave_interval 1",
                 "max_queued_messages 100000", "log_dest file %s" % (root / "remote.log")]  # fmt: skip
        if tls:
            lines += ["certfile %s" % tls[0], "keyfile %s" % tls[1]]
        (root / "remote.conf").write_text("\n".join(lines) + "\n")

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            mosquitto_binary(), "-c", str(self.root / "remote.conf"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await wait_port("127.0.0.1", self.port, 10.0, self.proc)

    async def stop(self) -> None:
        if self.proc is not None:
            await stop_child(self.proc)  # SIGTERM: mosquitto saves its sessions and queues
            self.proc = None


def remote_in_thread(
    root: Path, tls: tuple[Path, Path] | None = None
) -> tuple[RemoteBroker, asyncio.AbstractEventLoop]:
    """A remote broker started on a loop of its own thread (for tests that are not async)."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    remote = RemoteBroker(root, tls)
    asyncio.run_coroutine_threadsafe(remote.start(), loop).result(15)
    return remote, loop


def remote_client(port: int, client_id: str, sub: str, got: list[tuple[str, bytes, bool]],
                  cafile: Path | None = None) -> paho.Client:  # fmt: skip
    """A fleet-side subscriber with a persistent session (QoS 1 queued for it across its own gaps)."""
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    c.username_pw_set(USER, PASSWORD)
    if cafile is not None:
        c.tls_set(ca_certs=str(cafile))
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe(sub, 1)
    c.on_message = lambda cl, u, m: got.append((m.topic, bytes(m.payload), bool(m.retain)))
    c.reconnect_delay_set(0.2, 1)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


@dataclass
class BridgeRun:
    bridge: Bridge
    link: MqttLink
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.link.close()


async def start_bridge(rt: Runtime, store: ConfigStore) -> BridgeRun:
    """The service's body in this process, on the head broker of `rt` (its runtime file written so the
    store's writer announces changes, as under `chargepark run`)."""
    rt.save()
    mods = [{"uid": uid, "position": i + 1, "online": True, "parent_device_uid": STATION}
            for i, uid in enumerate(POINTS)]  # fmt: skip
    head = paho.Client(CallbackAPIVersion.VERSION2)
    head.connect(rt.mqtt_host, rt.mqtt_port)
    head.loop_start()
    head.publish(topics.AGENT_MODULES, json.dumps(mods), qos=1, retain=True).wait_for_publish(5)
    head.loop_stop()
    head.disconnect()
    link = MqttLink(rt.mqtt_host, rt.mqtt_port, SPEC)
    await link.connect()
    bridge = Bridge(rt, link, store)
    await bridge.follow()
    bridge.changed.set()
    return BridgeRun(bridge, link, asyncio.create_task(bridge.run()))


async def wait_state(bridge: Bridge, want: str, timeout: float = 15.0) -> dict[str, object]:
    deadline = asyncio.get_running_loop().time() + timeout
    while bridge.state.state != want:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("bridge state %r, wanted %r" % (bridge.state.report(), want))
        await asyncio.sleep(0.05)
    return bridge.state.report()

"""The lock on the park link (park/auth.py, broker.py, park/link.py): the server's park listener takes only
clients that log in with the park's secret and lets them publish and read only the park's routes, while its
loopback listener stays anonymous for the head's own services. Rendered configuration and real mosquittos:
a client bridge with the right secret is carried, one with a wrong or no secret is refused and says so in
its log, an anonymous client on the park listener is refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
from pathlib import Path

import chargeschema
import paho.mqtt.client as paho
import pytest
from chargepark import broker, topics
from chargepark.config.areas import AREAS
from chargepark.park import auth, link
from chargepark.procs import stop_child
from chargepark.runtime import free_port
from paho.mqtt.enums import CallbackAPIVersion

from tests.host.headkit import Collector
from tests.host.test_park_link import PARK_HOST, SECRET, Publisher


def _after(conf: list[str], line: str) -> list[str]:
    """The settings lines that follow `line` up to the next listener (per_listener_settings)."""
    rest = conf[conf.index(line) + 1 :]
    return rest[
        : next((i for i, ln in enumerate(rest) if ln.startswith(("listener ", "connection "))), len(rest))
    ]


def test_the_loopback_listener_stays_anonymous_and_the_park_listener_needs_the_login(tmp_path: Path) -> None:
    settings = auth.install(tmp_path, SECRET)
    conf = broker.render_config(
        "127.0.0.1", 1883, listeners=((PARK_HOST, 4711),), listen_auth=settings, bridge="connection park\n"
    ).splitlines()
    assert conf.index("per_listener_settings true") < conf.index("listener 1883 127.0.0.1")
    assert _after(conf, "listener 1883 127.0.0.1") == ["allow_anonymous true"]
    assert _after(conf, "listener 4711 %s" % PARK_HOST) == [
        "allow_anonymous false",
        "password_file %s" % (tmp_path / auth.PASSWORD_FILE),
        "acl_file %s" % (tmp_path / auth.ACL_FILE),
    ]
    # a park listener without its files still takes nobody
    bare = broker.render_config("127.0.0.1", 1883, listeners=((PARK_HOST, 4711),)).splitlines()
    assert _after(bare, "listener 4711 %s" % PARK_HOST) == ["allow_anonymous false"]
    assert {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {
        auth.PASSWORD_FILE: 0o600,
        auth.ACL_FILE: 0o600,
    }


def test_the_password_file_holds_mosquittos_pbkdf2_entry_and_nothing_for_an_empty_secret() -> None:
    user, _, kind, it, salt, digest = auth.password_line(SECRET).rstrip("\n").replace(":", "$", 1).split("$")
    assert (user, kind, it) == (link.USER, "7", "101") and len(base64.b64decode(salt)) == 12
    assert base64.b64decode(digest) == hashlib.pbkdf2_hmac(
        "sha512", SECRET.encode(), base64.b64decode(salt), 101
    )
    assert auth.password_line(SECRET) != auth.password_line(SECRET)  # a fresh salt each time
    assert auth.password_line("") == ""


def test_the_acl_lets_a_client_publish_its_routes_out_and_read_its_routes_in() -> None:
    assert auth.acl().splitlines() == [
        "user chargepark-park",
        "topic write applications/controller-agent/charging_controllers/+/live",
        "topic write applications/controller-agent/charging_controllers/+/event",
        "topic write applications/controller-agent/charging_controllers/+/command_result",
        "topic write applications/controller-agent/park/stations/+",
        "topic write applications/controller-agent/update/progress",
        "topic read applications/controller-agent/charging_controllers/+/command",
        "topic read applications/controller-agent/park/charging_controllers/+/config",
        "topic read applications/controller-agent/park/stations/+/update",
    ]


def test_a_client_without_the_secret_bridges_anonymously() -> None:
    lines = link.bridge(PARK_HOST, 1883, "CPC0001", "").splitlines()
    assert not [ln for ln in lines if ln.startswith(("remote_username", "remote_password"))]
    assert lines[:3] == [
        "connection park",
        "address %s:1883" % PARK_HOST,
        "remote_clientid chargepark-park-CPC0001",
    ]


def test_the_secret_is_one_configuration_line_of_printable_ascii() -> None:
    assert AREAS["system"].validate({"park_password": SECRET})["park_password"] == SECRET
    for bad in ("line\nbreak", " lead", "trail ", "pässwort", "x" * 65):
        with pytest.raises(chargeschema.Invalid, match="park_password"):
            AREAS["system"].validate({"park_password": bad})


def connack(port: int, host: str, user: str | None = None, password: str | None = None) -> paho.ReasonCode:
    """The broker's answer to a real paho client's CONNECT."""
    got: list[paho.ReasonCode] = []
    done = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-login-%d" % free_port())
    if user is not None:
        client.username_pw_set(user, password)
    client.on_connect = lambda c, u, f, rc, p: (got.append(rc), done.set())
    client.connect(host, port)
    client.loop_start()
    try:
        assert done.wait(10), "no CONNACK from %s:%d" % (host, port)
    finally:
        client.disconnect()
        client.loop_stop()
    return got[0]


class ParkPublisher(Publisher):
    """A real paho client logged in at the park listener, as a client bridge logs in."""

    def __init__(self, port: int) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-park-pub-%d" % port)
        self.client.username_pw_set(link.USER, SECRET)
        self.client.connect(PARK_HOST, port)
        self.client.loop_start()


def test_only_clients_with_the_secret_reach_the_server_and_only_on_the_parks_routes(tmp_path: Path) -> None:
    async def main() -> None:
        park_port, server_port = free_port(PARK_HOST), free_port()
        server = await broker.start_broker(tmp_path / "s", "127.0.0.1", server_port, tmp_path / "s.log",
                                           listeners=((PARK_HOST, park_port),), park_password=SECRET)  # fmt: skip
        clients = {}
        for name, secret in (("good", SECRET), ("wrong", "not the secret"), ("none", "")):
            port = free_port()
            proc = await broker.start_broker(
                tmp_path / name, "127.0.0.1", port, tmp_path / ("%s.log" % name),
                bridge=link.bridge(PARK_HOST, park_port, "CP%s" % name.upper(), secret),
            )  # fmt: skip
            clients[name] = (proc, port, Publisher(port))
        at_server = Collector(server_port)
        try:
            assert (tmp_path / "good" / "mosquitto.conf").stat().st_mode & 0o777 == 0o600  # holds the secret
            live = {name: topics.fill(topics.AGENT_LIVE, uid="CP%s" % name.upper()) for name in clients}
            good = clients["good"][2]
            await asyncio.to_thread(
                at_server.wait_for, lambda seen: good(live["good"], "{}") or live["good"] in seen, 15
            )

            def refused_twice() -> bool:  # refused, retried after its restart timeout, refused again
                for name in ("wrong", "none"):
                    clients[name][2](live[name], "{}")
                text = "".join((tmp_path / ("%s.log" % n)).read_text() for n in ("wrong", "none"))
                return text.count("Connection Refused: not authorised") >= 4

            deadline = asyncio.get_running_loop().time() + 30
            while not refused_twice():
                assert asyncio.get_running_loop().time() < deadline, "the bridges were not refused"
                await asyncio.sleep(0.2)
            for name in ("wrong", "none"):
                log = (tmp_path / ("%s.log" % name)).read_text()
                assert log.count("Connection Refused: not authorised") >= 2, log
            good(live["good"], "marker")  # behind everything the others published
            await asyncio.to_thread(at_server.wait_for, lambda seen: seen[live["good"]] == b"marker")
            assert live["wrong"] not in at_server.last and live["none"] not in at_server.last

            # anonymous: refused on the park listener, taken on loopback (the head's own services)
            assert connack(park_port, PARK_HOST).is_failure
            assert connack(park_port, PARK_HOST, link.USER, "not the secret").is_failure
            assert not connack(server_port, "127.0.0.1").is_failure
            # logged in: the ACL carries a route out, never a command to the server's points
            inside = ParkPublisher(park_port)
            try:
                command = topics.fill(topics.AGENT_COMMAND, uid="CPSIM0001")
                inside(command, '{"id": "unlock"}')
                inside(topics.AGENT_MODULES, "[]")
                inside(live["good"], "marker 2")
                await asyncio.to_thread(at_server.wait_for, lambda seen: seen[live["good"]] == b"marker 2")
                assert command not in at_server.last and topics.AGENT_MODULES not in at_server.last
            finally:
                inside.close()
        finally:
            at_server.close()
            for proc, _port, pub in clients.values():
                pub.close()
                await stop_child(proc)
            await stop_child(server)

    asyncio.run(main())

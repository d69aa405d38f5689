"""The network backend applied for real inside network namespaces this test creates (never the machine's own
interfaces, no traffic beyond these namespaces): a "head" namespace whose veth end is named eth0 and a
"peer" namespace at 10.77.0.1 that plays router, DHCP server (dnsmasq), client and OpenVPN server.

ETH0 is applied by the real systemd-networkd, started inside the head namespace on the rendered files
(a private mount namespace gives it its own /run and hides udev, which does not run here). Commands that
would reach the machine outside the namespace (systemctl, networkctl, hostnamectl) are mapped to `true` by the
runner; their part of the plan is checked in tests/host/test_network_apply.py. The modem runs against a
fake `mmcli`: no ModemManager test double (a simulated modem) exists to run it against.

Needs root (CAP_SYS_ADMIN for `ip netns` and mounts, CAP_NET_ADMIN for links, nftables and tun) and the
Debian packages iproute2, iputils-ping, nftables, dnsmasq-base, openvpn and systemd (systemd-networkd); `./dev.sh setup`
installs them. Without them every test here fails with the missing piece named; none is skipped.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chargepark.config.areas import area
from chargepark.network import apply, layout, modem, openvpn, routes, status
from chargepark.network.files import write_atomic
from chargepark.network.render import render
from chargepark.network.runner import Runner

NETWORKD = "/lib/systemd/systemd-networkd"
TOOLS = ("ip", "nft", "dnsmasq", "openvpn", "unshare", "ping")
HEAD_IP, PEER_IP = "10.77.0.2", "10.77.0.1"
# Commands that act on the machine rather than on the namespace: harmless stand-ins here.
OUTSIDE = {"systemctl": "true", "networkctl": "true", "hostnamectl": "true"}


def _require_privileges() -> None:
    if os.geteuid() != 0:
        pytest.fail("needs root: CAP_SYS_ADMIN (ip netns, mount) and CAP_NET_ADMIN (veth, nftables, tun)")
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not Path(NETWORKD).exists():
        missing.append(NETWORKD + " (package systemd)")
    if missing:
        pytest.fail("missing: %s (./dev.sh setup installs the apt list)" % ", ".join(missing))


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and done.returncode:
        raise AssertionError("%s: %s" % (" ".join(argv), done.stderr))
    return done


@dataclass
class Pair:
    head: str
    peer: str
    tmp: Path
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def in_ns(self, ns: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    def start(self, ns: str, *argv: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            self.in_ns(ns, *argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def runner(self, **tools: str) -> Runner:
        return Runner(netns=self.head, tools={**OUTSIDE, **tools})

    def head_json(self, *argv: str) -> Any:
        return json.loads(sh("ip", "-n", self.head, "-j", *argv).stdout or "[]")


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    with joined(tmp_path, "cpnet", "eth0", "peer0") as (p, peer):
        sh("ip", "-n", peer.head, "addr", "add", PEER_IP + "/24", "dev", "peer0")
        sh("ip", "-n", peer.head, "link", "set", "peer0", "up")
        yield p


@contextlib.contextmanager
def joined(tmp: Path, prefix: str, link: str, peer_link: str = "") -> Iterator[tuple[Pair, Pair]]:
    """Two namespaces (each Pair's `head` its own, `peer` the other's) joined by a veth pair, `link` in the
    first and `peer_link` (default: the same name) in the second: a head and its peer router over eth0,
    two heads of a park over eth1, a head and a PC over usb0."""
    _require_privileges()
    tag = "%d%d" % (os.getpid(), time.monotonic_ns() % 100000)
    one = Pair(head=prefix + "-h" + tag, peer=prefix + "-p" + tag, tmp=tmp)
    other = Pair(head=one.peer, peer=one.head, tmp=tmp)
    sh("ip", "netns", "add", one.head)
    try:
        sh("ip", "netns", "add", other.head)
        sh("ip", "-n", other.head, "link", "add", peer_link or link, "type", "veth", "peer", "name", link,
           "netns", one.head)  # fmt: skip
        for ns in (one.head, other.head):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        yield one, other
    finally:
        end(one.procs + other.procs, (one.head, other.head))


def end(procs: list[subprocess.Popen[str]], namespaces: tuple[str, ...]) -> None:
    """Stops what the test started in its namespaces (each in its own session), then the namespaces."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    for ns in namespaces:
        sh("ip", "netns", "del", ns, check=False)


def network(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = area("network").validate(changes)
    return record


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def start_networkd(p: Pair, root: Path) -> subprocess.Popen[str]:
    """systemd-networkd in the head namespace on the rendered .network files below `root`."""
    script = (
        "set -e; mkdir -p /run/systemd /run/udev; mount -t tmpfs tmpfs /run/systemd; "
        "mount -t tmpfs tmpfs /run/udev; mount --bind %s /etc/systemd/network; "
        "mount -o remount,bind,ro /sys; exec %s"  # a read-only /sys tells networkd that udev is absent
    ) % (root / "etc/systemd/network", NETWORKD)
    return p.start(p.head, "unshare", "-m", "--propagation", "private", "sh", "-c", script)


def install(c: dict[str, Any], root: Path) -> None:
    for f in render(c):
        write_atomic(root, f)


def ipv4_of(p: Pair) -> dict[str, Any] | None:
    for link in p.head_json("addr", "show", "dev", "eth0"):
        for a in link.get("addr_info", []):
            if a["family"] == "inet":
                return dict(a)
    return None


def default_routes(p: Pair, family: str = "-4") -> list[dict[str, Any]]:
    return [r for r in p.head_json(family, "route") if r.get("dst") == "default"]


def addrs6(p: Pair) -> list[dict[str, Any]]:
    return [a for link in p.head_json("-6", "addr", "show", "dev", "eth0") for a in link.get("addr_info", [])]


# ---- ETH0 ---------------------------------------------------------------------------------------------


def test_static_address_gateway_and_status_read_back(pair: Pair, tmp_path: Path) -> None:
    c = network(dhcp=False, ip_address=HEAD_IP, subnet_mask="255.255.255.0", gateway=PEER_IP,
                dns=[{"address": "10.77.0.53"}])  # fmt: skip
    root = tmp_path / "root"
    install(c, root)
    start_networkd(pair, root)
    addr = wait_for("the static address", lambda: ipv4_of(pair))
    assert (addr["local"], addr["prefixlen"]) == (HEAD_IP, 24)
    route = wait_for("the default route", lambda: default_routes(pair))[0]
    assert (route["gateway"], route["metric"]) == (PEER_IP, layout.ETH0_METRIC)
    sh(*pair.in_ns(pair.peer, "ping", "-c", "1", "-W", "2", HEAD_IP))  # the link carries traffic

    eth = status.interface(pair.runner(), "eth0")
    mac = pair.head_json("link", "show", "dev", "eth0")[0]["address"]
    assert (eth["ipv4"], eth["prefix"], eth["broadcast"], eth["mac"]) == (HEAD_IP, 24, "10.77.0.255", mac)
    assert eth["ipv6"].startswith("fe80:")
    assert eth["rx_bytes"] > 0 and eth["tx_bytes"] > 0  # from the namespace's /sys/class/net


@pytest.mark.slow
@pytest.mark.parametrize("no_gateway", [False, True])
def test_dhcp_from_dnsmasq_with_host_name_and_no_gateway_option(
    pair: Pair, tmp_path: Path, no_gateway: bool
) -> None:
    leases = tmp_path / "leases"
    sh("ip", "-n", pair.peer, "addr", "add", "fd77::1/64", "dev", "peer0", "nodad")  # the RA's prefix
    pair.start(pair.peer, "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=peer0",
               "--bind-interfaces", "--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,1h",
               "--dhcp-option=option:router," + PEER_IP, "--dhcp-leasefile=%s" % leases,
               "--enable-ra", "--dhcp-range=::,constructor:peer0,ra-only",  # IPv6: router advertisements
               "--pid-file=%s" % (tmp_path / "dnsmasq.pid"))  # fmt: skip
    c = network(dhcp=True, no_gateway=no_gateway, hostname="cp-test-%d" % no_gateway)
    root = tmp_path / "root"
    install(c, root)
    start_networkd(pair, root)
    addr = wait_for("a DHCP lease", lambda: ipv4_of(pair), timeout=20)
    assert ipaddress.IPv4Address(addr["local"]) in ipaddress.IPv4Network("10.77.0.48/28")
    assert ("cp-test-%d" % no_gateway) in wait_for(
        "the lease file", lambda: leases.exists() and leases.read_text()
    )
    # The router advertisement was taken (its prefix gave an address) whether or not its gateway was.
    wait_for(
        "the RA's address", lambda: any(a["local"].startswith("fd77:") for a in addrs6(pair)), timeout=20
    )
    if no_gateway:
        time.sleep(0.5)  # networkd sets the route right after the address; give it the chance to be wrong
        assert default_routes(pair) == [] and default_routes(pair, "-6") == []
    else:
        route = wait_for("the DHCP gateway", lambda: default_routes(pair))[0]
        assert (route["gateway"], route["metric"]) == (PEER_IP, layout.ETH0_METRIC)
        route6 = wait_for("the RA's gateway", lambda: default_routes(pair, "-6"))[0]
        assert route6["gateway"].startswith("fe80:") and route6["metric"] == layout.ETH0_METRIC


# ---- Port Sharing -------------------------------------------------------------------------------------

LISTENER = textwrap.dedent(
    """
    import socket, sys
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8); print("ready", flush=True)
    while True:
        c, _ = s.accept(); c.sendall(b"hello"); c.close()
    """
)
CONNECT = textwrap.dedent(
    """
    import socket, sys
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3); print(s.recv(5).decode())
    except OSError as e:
        print(type(e).__name__)
    """
)


def listen(p: Pair, ns: str, port: int) -> None:
    proc = p.start(ns, sys.executable, "-c", LISTENER, str(port))
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"


def connect(p: Pair, ns: str, host: str, port: int) -> str:
    return sh(*p.in_ns(ns, sys.executable, "-c", CONNECT, host, str(port))).stdout.strip()


def static_head(p: Pair) -> None:
    sh("ip", "-n", p.head, "addr", "add", HEAD_IP + "/24", "dev", "eth0")
    sh("ip", "-n", p.head, "link", "set", "eth0", "up")


def with_port(c: dict[str, Any], port: int, is_open: bool, direction: str = "in") -> dict[str, Any]:
    ports = [e for e in c["ports"] if (e["port"], e["direction"]) != (port, direction)]
    ports.append({"port": port, "open": is_open, "label": "test", "direction": direction})
    return network(ports=ports)


def test_firewall_refuses_a_closed_port_and_answers_an_opened_one(pair: Pair, tmp_path: Path) -> None:
    static_head(pair)
    for port in (5555, 22, 6000):
        listen(pair, pair.head, port)
    listen(pair, pair.peer, 7000)
    root = tmp_path / "root"
    runner = pair.runner()
    assert connect(pair, pair.peer, HEAD_IP, 5555) == "hello"  # no ruleset yet

    outcome = apply.apply(network(), root, runner, ["firewall"])  # defaults: 5555 closed, 22 open
    assert outcome.ok, outcome.errors
    assert connect(pair, pair.peer, HEAD_IP, 5555) == "ConnectionRefusedError"  # refused at once, no timeout
    assert connect(pair, pair.peer, HEAD_IP, 22) == "hello"
    assert connect(pair, pair.peer, HEAD_IP, 6000) == "ConnectionRefusedError"  # not in the table: closed
    assert connect(pair, pair.head, "127.0.0.1", 5555) == "hello"  # loopback is never filtered
    assert connect(pair, pair.head, PEER_IP, 7000) == "hello"  # outgoing open by default

    c = with_port(with_port(network(), 5555, True), 7000, False, "out")
    assert apply.apply(c, root, runner, ["firewall"]).ok
    assert connect(pair, pair.peer, HEAD_IP, 5555) == "hello"
    assert connect(pair, pair.head, PEER_IP, 7000) == "ConnectionRefusedError"  # a closed outgoing port
    assert connect(pair, pair.peer, HEAD_IP, 22) == "hello"
    tables = sh("ip", "netns", "exec", pair.head, "nft", "list", "tables").stdout
    assert tables.count("inet chargepark") == 1  # a reload replaces the table, it does not add one
    now = status.read(c, runner, root)["firewall"]  # what the WBM shows beside Port Sharing
    assert now["loaded"] and 5555 in now["open_in"] and 22 in now["open_in"] and now["closed_out"] == [7000]
    assert 6000 not in now["open_in"] and 68 not in now["open_in"]


# ---- routes -------------------------------------------------------------------------------------------


def route_rows(p: Pair) -> list[dict[str, Any]]:
    return [r for r in p.head_json("-4", "route") if r.get("dst") != "10.77.0.0/24"]


def test_routes_added_persisted_removed_and_restored(pair: Pair, tmp_path: Path) -> None:
    static_head(pair)
    root, runner = tmp_path / "root", pair.runner()
    wanted = [{"network": "10.99.0.0/16", "gateway": PEER_IP, "interface": "eth0", "metric": 7},
              {"network": "10.98.1.5/32", "gateway": PEER_IP, "interface": "eth0", "metric": 0}]  # fmt: skip
    c = network(routes=wanted)
    assert apply.apply(c, root, runner, ["routes"]).ok
    got = {(r["dst"], r["gateway"], r.get("metric", 0)) for r in route_rows(pair)}
    assert got == {("10.99.0.0/16", PEER_IP, 7), ("10.98.1.5", PEER_IP, 0)}
    assert "route replace 10.99.0.0/16 via 10.77.0.1 dev eth0 metric 7" in (root / layout.ROUTES).read_text()
    rows = {r["destination"]: r for r in status.read(c, runner, root)["routes"]}
    assert rows["10.99.0.0"]["genmask"] == "255.255.0.0" and rows["10.99.0.0"]["persistent"]
    assert rows["10.98.1.5"]["flags"] == "UGHS"
    assert not rows["10.77.0.0"]["persistent"] and rows["10.77.0.0"]["flags"] == "U"  # the kernel's own

    # A route dropped from the list is deleted by the next apply (the previous batch file says what was ours).
    assert apply.apply(network(routes=wanted[:1]), root, runner, ["routes"]).ok
    assert [r["dst"] for r in route_rows(pair)] == ["10.99.0.0/16"]

    # A system route removed until the next restart stays listed and comes back on restore.
    system = {"network": "10.77.0.0/24", "gateway": "", "interface": "eth0", "metric": 0}
    sh("ip", "-n", pair.head, "route", "del", "10.77.0.0/24")
    sh("ip", "-n", pair.head, "route", "add", "10.77.0.0/24", "dev", "eth0", "metric", "0")
    routes.remove(runner, root, system, until_restart=True)
    assert "10.77.0.0/24" not in [r["dst"] for r in pair.head_json("-4", "route")]
    assert status.read(c, runner, root)["removed_routes"] == [system]
    routes.restore(runner, root, system)
    assert "10.77.0.0/24" in [r["dst"] for r in pair.head_json("-4", "route")]
    assert routes.removed(root) == []


# ---- modem (fake mmcli) ---------------------------------------------------------------------------------

FAKE_MMCLI = textwrap.dedent(
    """\
    #!{python}
    import json, sys
    args = sys.argv[1:]
    with open({log!r}, "a") as f:
        f.write(" ".join(args) + "\\n")
    answers = json.load(open({answers!r}))
    key = " ".join(a for a in args if a != "-J")
    if "-J" in args:
        print(json.dumps(answers.get(key, {{}})))
    elif key.split("=")[0] not in ("-m any --enable", "-i any --pin", "-m any --simple-connect"):
        sys.exit("fake mmcli: no answer for " + key)
    """
)
MODEM = "/org/freedesktop/ModemManager1/Modem/0"
BEARER = "/org/freedesktop/ModemManager1/Bearer/0"
SIM = "/org/freedesktop/ModemManager1/SIM/0"
MMCLI_ANSWERS = {
    "-L": {"modem-list": [MODEM]},
    "-m any": {"modem": {"generic": {"bearers": [BEARER]}}},
    "-m " + MODEM: {"modem": {
        "3gpp": {"imei": "356938035643809", "operator-name": "Testnet", "registration-state": "roaming"},
        "generic": {"manufacturer": "Quectel", "model": "EG25", "revision": "EG25GGBR07A08M2G", "state": "connected",
                    "signal-quality": {"value": "67", "recent": "yes"}, "access-technologies": ["lte"], "sim": SIM,
                    "bearers": [BEARER], "own-numbers": ["+4915112345678"], "unlock-required": "--"}}},
    "-i " + SIM: {"sim": {"properties": {"imsi": "262011234567890", "iccid": "8949011234567890123"}}},
    "-b " + BEARER: {"bearer": {
        "status": {"connected": "yes", "interface": "wwan0"}, "properties": {"apn": "internet.test"},
        "ipv4-config": {"method": "static", "address": "10.64.1.2", "prefix": "30", "gateway": "10.64.1.1",
                        "dns": ["10.64.0.53", "10.64.0.54"]},
        "stats": {"bytes-rx": "1234", "bytes-tx": "567"}}},
    "-m %s --signal-get" % MODEM: {"modem": {"signal": {"gsm": {"rssi": "--"}, "lte": {"rssi": "-71.00"}}}},
}  # fmt: skip


def fake_mmcli(tmp: Path) -> tuple[Path, Path]:
    answers, log, exe = tmp / "answers.json", tmp / "mmcli.log", tmp / "mmcli"
    answers.write_text(json.dumps(MMCLI_ANSWERS))
    exe.write_text(FAKE_MMCLI.format(python=sys.executable, log=str(log), answers=str(answers)))
    exe.chmod(0o755)
    return exe, log


def test_modem_connects_addresses_its_interface_and_prefers_its_default_route(
    pair: Pair, tmp_path: Path
) -> None:
    static_head(pair)
    # The modem's network interface: a veth (the kernel here has no dummy links) to the peer as the carrier.
    sh(
        "ip",
        "-n",
        pair.head,
        "link",
        "add",
        "wwan0",
        "type",
        "veth",
        "peer",
        "name",
        "carrier0",
        "netns",
        pair.peer,
    )
    sh("ip", "-n", pair.peer, "addr", "add", "10.64.1.1/30", "dev", "carrier0")
    sh("ip", "-n", pair.peer, "link", "set", "carrier0", "up")
    exe, log = fake_mmcli(tmp_path)
    c = network(modem_enabled=True, sim_pin="1234", apn="internet.test", apn_use_credentials=True,
                apn_user="web", apn_password="a,b", modem_default_route=True, modem_preferred=True)  # fmt: skip
    outcome = apply.apply(c, tmp_path / "root", pair.runner(mmcli=str(exe)), ["modem"])
    assert outcome.ok, outcome.errors
    calls = log.read_text().splitlines()
    assert calls[:3] == ["-m any --enable", "-i any --pin=1234",
                         "-m any --simple-connect=apn=internet.test,user=web,password='a,b'"]  # fmt: skip
    addrs = [a["local"] for link in pair.head_json("addr", "show", "dev", "wwan0") for a in link["addr_info"]]
    assert "10.64.1.2" in addrs
    route = next(r for r in default_routes(pair) if r["dev"] == "wwan0")
    assert (route["gateway"], route["metric"]) == ("10.64.1.1", layout.MODEM_PREFERRED_METRIC)

    answered, log = modem.test_ping(pair.runner(mmcli=str(exe)), "10.64.1.1")  # TEST MODEM, through wwan0
    assert answered and "3 received" in log

    fields = status.read(c, pair.runner(mmcli=str(exe)), tmp_path / "root")["modem"]
    assert fields["registration"] == "Registered" and fields["roaming"] == "ROAMING"
    assert (fields["ip"], fields["dns_secondary"], fields["rssi_dbm"]) == (
        "10.64.1.2",
        "10.64.0.54",
        "-71.00",
    )


# ---- OpenVPN ------------------------------------------------------------------------------------------


def _pki(tmp: Path) -> dict[str, str]:
    """A CA, a server and a client certificate (EC P-256), PEM text by name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(name("test ca")).issuer_name(name("test ca"))
        .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    out = {"ca": ca.public_bytes(serialization.Encoding.PEM).decode()}
    for serial, who, usage in (
        (2, "server", ExtendedKeyUsageOID.SERVER_AUTH),
        (3, "client", ExtendedKeyUsageOID.CLIENT_AUTH),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder().subject_name(name(who)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(serial).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        out[who + "_cert"] = cert.public_bytes(serialization.Encoding.PEM).decode()
        out[who + "_key"] = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    for key_name, text in out.items():
        (tmp / (key_name + ".pem")).write_text(text)
        (tmp / (key_name + ".pem")).chmod(0o600)
    return out


def start_vpn_server(p: Pair, tmp: Path) -> dict[str, str]:
    pki = _pki(tmp)
    server = p.start(p.peer, "openvpn", "--dev", "tun", "--proto", "udp", "--local", PEER_IP, "--port", "1194",
                     "--server", "10.8.0.0", "255.255.255.0", "--topology", "subnet", "--dh", "none",
                     "--ca", str(tmp / "ca.pem"), "--cert", str(tmp / "server_cert.pem"),
                     "--key", str(tmp / "server_key.pem"), "--verb", "3")  # fmt: skip
    assert server.stdout is not None
    wait_for("the VPN server", lambda: "Initialization Sequence Completed" in server.stdout.readline())
    threading.Thread(target=server.stdout.read, daemon=True).start()  # drained: a full pipe would stall it
    return pki


def client_text(pki: dict[str, str], extra: str = "") -> str:
    return "client\ndev tap\nproto udp\nremote %s 1194\nnobind\nverb 3\n%s<ca>\n%s</ca>\n<cert>\n%s</cert>\n<key>\n%s</key>\n" % (
        PEER_IP, extra, pki["ca"], pki["client_cert"], pki["client_key"])  # fmt: skip


@pytest.mark.slow
def test_openvpn_test_connection_and_client_status_against_a_server(pair: Pair, tmp_path: Path) -> None:
    static_head(pair)
    pki = start_vpn_server(pair, tmp_path)
    text = client_text(pki)

    ok, log = openvpn.test_connection(pair.runner(), text, timeout=20)
    assert ok, log
    assert "Initialization Sequence Completed" in log
    assert "VERIFY OK: depth=0, CN=server" in log  # the server's certificate was checked against the CA
    bad, bad_log = openvpn.test_connection(pair.runner(), text.replace(PEER_IP, "10.77.0.9"), timeout=3)
    assert not bad and "no connection within 3 s" in bad_log

    # The permanent client: the rendered file run as the unit would, its management socket read back.
    c = network(openvpn_mode="on", openvpn_config=text)
    root = tmp_path / "root"
    install(c, root)
    conf = root / layout.OPENVPN
    assert (conf.stat().st_mode & 0o777) == 0o600 and "\ndev tun\n" in conf.read_text()
    sock = tmp_path / "mgmt.sock"
    pair.start(pair.head, "openvpn", "--config", str(conf), "--management", str(sock), "unix",
               "--status", str(tmp_path / "status"), "1")  # fmt: skip
    vpn = wait_for(
        "the VPN client", lambda: (s := openvpn.status(text, str(sock)))["status"] == "connected" and s
    )
    assert vpn["server_ip"] == PEER_IP and ipaddress.IPv4Address(vpn["private_ip"]) in ipaddress.IPv4Network(
        "10.8.0.0/24"
    )
    assert vpn["connected_since"].endswith("Z") and 0 <= vpn["connected_s"] < 60
    sh(*pair.in_ns(pair.head, "ping", "-c", "1", "-W", "2", "10.8.0.1"))  # traffic through the tunnel


# ---- a real head: CHARGEPARK_NETWORK_ROOT=/ with the unit's capabilities --------------------------------

# The web server's path: `network.host.for_data` with the unit's environment, one apply (and the rollback
# to the defaults if a part fails); prints the outcome.
HEAD_APPLY = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from chargepark.config.areas import area
    from chargepark.network import host
    net = area("network")
    h = host.for_data(Path(sys.argv[1]))
    print(json.dumps(h.apply(net.validate(json.loads(sys.argv[2])), net.defaults())))
    """
)
FAKE_DBUS_CLIENT = '#!/bin/sh\necho "$(basename "$0") $*" >> %s\n'


def unit_capabilities(data: Path) -> list[str]:
    from chargepark.systemd import render

    line = next(
        x for x in render(sys.executable, data, "root").splitlines() if x.startswith("CapabilityBoundingSet=")
    )
    caps: list[str] = line.split("=", 1)[1].split()
    return caps


def setpriv_bounding(caps: list[str]) -> str:
    return ",".join(["-all", *("+" + cap.removeprefix("CAP_").lower() for cap in caps)])


def apply_as_head(p: Pair, tmp: Path, c: dict[str, Any], caps: list[str]) -> tuple[dict[str, Any], Path]:
    """Applies `c` as the head's unit would, inside the head namespace: root with only `caps` (setpriv's
    bounding set, no new privileges), CHARGEPARK_NETWORK_ROOT=/, and / as the root it writes to. A private
    mount namespace puts an overlay on /etc (writes land in the returned upper directory, never in this
    machine's /etc) and a tmpfs on /run. The D-Bus clients (systemctl, networkctl, hostnamectl) have no
    systemd to talk to here: stand-ins record them in `tmp/dbus.log`."""
    upper, work, fakes = tmp / "etc-upper", tmp / "etc-work", tmp / "bin"
    for d in (upper, work, fakes):
        d.mkdir(exist_ok=True)
    for name in ("systemctl", "networkctl", "hostnamectl"):
        (fakes / name).write_text(FAKE_DBUS_CLIENT % (tmp / "dbus.log"))
        (fakes / name).chmod(0o755)
    bounding = setpriv_bounding(caps)
    script = (
        'set -e; mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc; '
        'mount -t tmpfs tmpfs /run; shift 2; exec "$@"'
    )
    env = "PATH=%s:%s" % (fakes, os.environ["PATH"])
    done = sh(*p.in_ns(p.head, "unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                       str(upper), str(work), "setpriv", "--bounding-set=" + bounding, "--no-new-privs",
                       "env", env, "CHARGEPARK_NETWORK_ROOT=/", sys.executable, "-c", HEAD_APPLY,
                       str(tmp / "data"), json.dumps(c)))  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result, upper


def test_a_head_with_the_units_rights_applies_to_the_system(pair: Pair, tmp_path: Path) -> None:
    static_head(pair)
    listen(pair, pair.head, 5555)
    assert connect(pair, pair.peer, HEAD_IP, 5555) == "hello"
    own_etc = sorted(os.listdir("/etc"))
    route = {"network": "10.99.0.0/16", "gateway": PEER_IP, "interface": "eth0", "metric": 7}
    c = {"dhcp": False, "ip_address": HEAD_IP, "subnet_mask": "255.255.255.0", "gateway": PEER_IP,
         "hostname": "cp-head", "routes": [route]}  # fmt: skip
    caps = unit_capabilities(tmp_path / "data")
    result, upper = apply_as_head(pair, tmp_path, c, caps)
    assert result["ok"] and result["system"] and result["root"] == "/", result
    # Applied, not only rendered: the ruleset is loaded (5555 closed by default) and the route is in.
    assert connect(pair, pair.peer, HEAD_IP, 5555) == "ConnectionRefusedError"
    assert "inet chargepark" in sh(*pair.in_ns(pair.head, "nft", "list", "tables")).stdout
    assert [r["dst"] for r in pair.head_json("-4", "route") if r.get("metric") == 7] == ["10.99.0.0/16"]
    # Written to /etc of the head (the overlay), not below a data directory and not this machine's /etc.
    eth0 = (upper / layout.ETH0_NETWORK.removeprefix("etc/")).read_text()
    assert "Address=%s/24" % HEAD_IP in eth0 and (upper / "hostname").read_text() == "cp-head\n"
    assert (upper / layout.FIREWALL.removeprefix("etc/")).exists() and not (tmp_path / "data").exists()
    assert sorted(os.listdir("/etc")) == own_etc
    dbus = (tmp_path / "dbus.log").read_text().splitlines()
    assert "hostnamectl set-hostname cp-head" in dbus and "networkctl reconfigure eth0" in dbus
    assert "systemctl enable chargepark-firewall.service" in dbus


def test_without_cap_net_admin_the_head_applies_nothing_and_says_why(pair: Pair, tmp_path: Path) -> None:
    """The bounding set is what lets the head act: one capability short, nft and ip are refused."""
    static_head(pair)
    caps = [cap for cap in unit_capabilities(tmp_path / "data") if cap != "CAP_NET_ADMIN"]
    route = {"network": "10.99.0.0/16", "gateway": PEER_IP, "interface": "eth0", "metric": 7}
    result, _ = apply_as_head(pair, tmp_path, {"routes": [route]}, caps)
    assert not result["ok"] and {"firewall", "routes"} <= set(result["errors"])
    assert "Operation not permitted" in result["errors"]["firewall"]
    assert "inet chargepark" not in sh(*pair.in_ns(pair.head, "nft", "list", "tables")).stdout
    assert [r for r in pair.head_json("-4", "route") if r.get("metric") == 7] == []


# One harmless act per program of the rights table that needs a capability, inside the head namespace.
# `date` and `hwclock` are left out: the clock is the machine's, no namespace keeps it.
PROBES = {
    "ip": ["ip", "addr", "add", "10.77.9.9/32", "dev", "lo"],
    "nft": ["nft", "add", "table", "inet", "cp_probe"],
    "openvpn": ["openvpn", "--mktun", "--dev", "tun7"],  # the tun device TEST VPN CONNECTION opens
    "ping": ["ping", "-c", "1", "-W", "2", PEER_IP],
}
UNPROBED = {"date", "hwclock"}


@pytest.mark.parametrize("program", sorted(PROBES))
def test_each_program_works_with_the_units_bounding_set_and_not_without_its_capability(
    pair: Pair, tmp_path: Path, program: str
) -> None:
    from chargepark.systemd import rights

    assert set(PROBES) | UNPROBED == {name for name, p in rights.PROGRAMS.items() if p.caps}
    static_head(pair)
    caps = unit_capabilities(tmp_path / "data")

    def run(allowed: list[str]) -> subprocess.CompletedProcess[str]:
        bounding = "--bounding-set=" + setpriv_bounding(allowed)
        return sh(
            *pair.in_ns(pair.head, "setpriv", bounding, "--no-new-privs", *PROBES[program]), check=False
        )

    without = [cap for cap in caps if cap not in rights.PROGRAMS[program].caps]
    refused = run(without)
    assert refused.returncode != 0, "%s ran without %s" % (program, rights.PROGRAMS[program].caps)
    granted = run(caps)
    assert granted.returncode == 0, granted.stdout + granted.stderr

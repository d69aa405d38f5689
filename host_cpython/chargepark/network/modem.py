"""The cellular modem through ModemManager's `mmcli`: enable, unlock, connect the APN, put the bearer's
address and default route on its interface, and the manual's status fields from `mmcli -J`."""

from __future__ import annotations

import json
from typing import Any

from chargepark.network import layout
from chargepark.network.runner import Runner, Tolerant

Record = dict[str, Any]
NA = layout.NOT_AVAILABLE


class ModemError(RuntimeError):
    pass


def _value(text: str) -> str:
    """An mmcli --simple-connect value; quoted where it holds the separators."""
    return "'%s'" % text if any(ch in text for ch in ",='\" ") else text


def connect_argument(c: Record) -> str:
    pairs = [("apn", c["apn"])]
    if c["apn_use_credentials"]:
        pairs += [("user", c["apn_user"]), ("password", c["apn_password"])]
    return "--simple-connect=" + ",".join("%s=%s" % (k, _value(v)) for k, v in pairs)


def commands(c: Record) -> list[list[str]]:
    """Bring the modem up as configured (each must succeed); `teardown` when the service is off. The
    modem unit connects it again at boot and after a failure (ModemManager itself does not)."""
    out = [["systemctl", "enable", layout.MODEM_SERVICE], ["mmcli", "-m", "any", "--enable"]]
    if c["sim_pin"]:
        out.append(["mmcli", "-i", "any", "--pin=" + c["sim_pin"]])
    out.append(["mmcli", "-m", "any", connect_argument(c)])
    return out


def teardown() -> list[list[str]]:
    """Taking a modem down that is absent or down already is no error."""
    return [
        Tolerant(["systemctl", "disable", layout.MODEM_SERVICE]),  # first: it would connect it again
        Tolerant(["mmcli", "-m", "any", "--simple-disconnect"]),
        Tolerant(["mmcli", "-m", "any", "--disable"]),
    ]


def route_metric(c: Record) -> int:
    return layout.MODEM_PREFERRED_METRIC if c["modem_preferred"] else layout.MODEM_METRIC


def _json(runner: Runner, *args: str) -> Record:
    out: Record = json.loads(runner.run(["mmcli", *args, "-J"]).stdout or "{}")
    return out


def bearer(runner: Runner) -> Record:
    """The first bearer of the modem (mmcli -b ... -J), {} if there is none."""
    paths = _json(runner, "-m", "any").get("modem", {}).get("generic", {}).get("bearers", [])
    if not paths:
        return {}
    found: Record = _json(runner, "-b", paths[0]).get("bearer", {})
    return found


def configure_bearer(runner: Runner, c: Record) -> list[list[str]]:
    """ModemManager connects but leaves the interface to us: address, link up, the default route."""
    b = bearer(runner)
    if b.get("status", {}).get("connected") != "yes":
        raise ModemError("the modem's bearer is not connected")
    iface, v4 = b["status"]["interface"], b.get("ipv4-config", {})
    if v4.get("method") != "static":
        raise ModemError("bearer IPv4 method %r is not handled (only static)" % v4.get("method"))
    out = [
        ["ip", "link", "set", iface, "up"],
        ["ip", "addr", "replace", "%s/%s" % (v4["address"], v4["prefix"]), "dev", iface],
    ]
    if c["modem_default_route"]:
        via = ["via", v4["gateway"]] if v4.get("gateway", "--") != "--" else []
        out.append(["ip", "route", "replace", "default", *via, "dev", iface, "metric", str(route_metric(c))])
    for argv in out:
        runner.run(argv)
    return out


def restart(runner: Runner) -> None:
    """RESTART MODEM SERVICE: the modem comes back disconnected; the modem unit connects it again once it
    is there (retrying; --no-block: not waiting for it)."""
    runner.run(["mmcli", "-m", "any", "--reset"])
    runner.run(["systemctl", "restart", "--no-block", layout.MODEM_SERVICE])


def test_ping(runner: Runner, address: str) -> tuple[bool, str]:
    """TEST MODEM: a ping to `address` through the modem's interface; (answered, ping's output)."""
    iface = bearer(runner).get("status", {}).get("interface", "")
    if not iface:
        return False, "no modem connection"
    done = runner.run(["ping", "-c", "3", "-W", "2", "-I", iface, address], check=False, timeout=15)
    return done.rc == 0, done.stdout + done.stderr


# ---- status (manual "Network/Modem") ----------------------------------------------------------------

# Field -> manual label, in the manual's order. CQI: ModemManager reports no channel quality indicator.
FIELDS = {
    "provider": "Providers", "apn": "APN", "registration": "Registration Status", "roaming": "Roaming Status",
    "signal_quality": "Signal (Quality)", "rssi_dbm": "Signal (RSSI)", "cqi": "Signal (CQI)",
    "radio_technology": "Radio Technology", "imsi": "IMSI", "iccid": "ICCID", "msisdn": "MSISDN", "sim": "SIM",
    "connection": "Connection Status", "ip": "IP Address", "dns_primary": "Primary DNS Server",
    "dns_secondary": "Secondary DNS Server", "rx_bytes": "RX Bytes", "tx_bytes": "TX Bytes", "imei": "IMEI",
    "manufacturer": "Manufacturers", "model": "Model", "revision": "Revision",
}  # fmt: skip

REGISTRATION = {"idle": "Not registered/Not searching", "home": "Registered", "roaming": "Registered",
                "home-sms-only": "Registered", "roaming-sms-only": "Registered", "home-csfb-not-preferred":
                "Registered", "roaming-csfb-not-preferred": "Registered", "searching": "Searching",
                "denied": "Registration denied"}  # fmt: skip
# Signal quality percentage -> the manual's words: (upper bound exclusive, label).
QUALITY = ((1, "Unknown"), (20, "Marginal or less"), (40, "Marginal"), (60, "OK"), (80, "Good"),
           (101, "Excellent"))  # fmt: skip
SIM_LOCKS = {"sim-pin": "SIM PIN required", "sim-puk": "SIM PUK required", "sim-pin2": "SIM PIN required",
             "sim-puk2": "SIM PUK required"}  # fmt: skip
SIM_FAILURES = {"sim-missing": "SIM not inserted", "sim-error": "SIM failure"}


def _known(value: Any) -> str:
    return NA if value in (None, "", "--", []) else str(value)


def quality(percent: str) -> str:
    try:
        value = int(percent)
    except ValueError:
        return "Unknown"
    return next(label for bound, label in QUALITY if value < bound)


def _sim_state(generic: Record) -> str:
    if generic.get("state") == "failed":
        return SIM_FAILURES.get(generic.get("state-failed-reason", ""), "SIM failure")
    if generic.get("sim", "--") == "--":
        return "SIM not inserted"
    return SIM_LOCKS.get(generic.get("unlock-required", "--"), "READY")


def _connection(generic: Record, b: Record) -> str:
    if b.get("status", {}).get("connected") == "yes":
        return "Connected"
    return "Connecting" if generic.get("state") == "connecting" else "Disconnected"


def status(runner: Runner) -> dict[str, str]:
    """Every field of FIELDS; all "Not Available" when there is no modem (or no ModemManager)."""
    none = dict.fromkeys(FIELDS, NA)
    listing = runner.run(["mmcli", "-L", "-J"], check=False)
    try:
        modems = json.loads(listing.stdout or "{}").get("modem-list", []) if listing.rc == 0 else []
    except ValueError:
        modems = []
    if not modems:
        return none
    m = _json(runner, "-m", modems[0]).get("modem", {})
    generic, gpp = m.get("generic", {}), m.get("3gpp", {})
    sim_path = generic.get("sim", "--")
    sim = _json(runner, "-i", sim_path).get("sim", {}).get("properties", {}) if sim_path != "--" else {}
    paths = generic.get("bearers", [])
    b = _json(runner, "-b", paths[0]).get("bearer", {}) if paths else {}
    signal = runner.run(["mmcli", "-m", modems[0], "--signal-get", "-J"], check=False)
    try:
        levels = json.loads(signal.stdout or "{}").get("modem", {}).get("signal", {})
    except ValueError:
        levels = {}
    rssi = next((t.get("rssi") for t in levels.values() if _known(t.get("rssi")) != NA), None)
    v4, stats = b.get("ipv4-config", {}), b.get("stats", {})
    dns = v4.get("dns", [])
    registration = gpp.get("registration-state", "")
    out = {
        "provider": _known(gpp.get("operator-name")),
        "apn": _known(b.get("properties", {}).get("apn")),
        "registration": REGISTRATION.get(registration, "Unknown"),
        "roaming": "ROAMING" if registration.startswith("roaming") else ("HOME" if registration else NA),
        "signal_quality": quality(generic.get("signal-quality", {}).get("value", "")),
        "rssi_dbm": _known(rssi),
        "cqi": NA,
        "radio_technology": _known(", ".join(t.upper() for t in generic.get("access-technologies", []))),
        "imsi": _known(sim.get("imsi")),
        "iccid": _known(sim.get("iccid")),
        "msisdn": _known(", ".join(generic.get("own-numbers", []))),
        "sim": _sim_state(generic),
        "connection": _connection(generic, b),
        "ip": _known(v4.get("address")),
        "dns_primary": _known(dns[0] if dns else None),
        "dns_secondary": _known(dns[1] if len(dns) > 1 else None),
        "rx_bytes": _known(stats.get("bytes-rx")),
        "tx_bytes": _known(stats.get("bytes-tx")),
        "imei": _known(gpp.get("imei") or generic.get("equipment-identifier")),
        "manufacturer": _known(generic.get("manufacturer")),
        "model": _known(generic.get("model")),
        "revision": _known(generic.get("revision")),
    }
    return out

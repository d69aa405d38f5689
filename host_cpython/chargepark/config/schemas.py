"""Schemas of the head-only configuration areas (the charging point's is `pointconfig`, shared with the IO
module). Field names, ranges and defaults follow the manual's WBM pages; defaults from the CHARX 1.9.0 files
(charx-interfaces.md 5.4) where they exist. Each area is a tuple of `chargeschema.Field` plus single-record checks;
rules that span records (unique ids, Modbus start addresses, ...) live in `parkrules`.
"""

from __future__ import annotations

import functools
import ipaddress
import zoneinfo
from typing import Any

from chargeschema import BOOL, ENUM, INT, LIST, STR, Field
from iomodule import phases

from chargepark.config import checks as ck
from chargepark.ocpp import cacert

Record = dict[str, Any]

# ---- park and stations (manual "Charging Stations/Overview") -------------------------------------------

PARK = (
    Field("name", STR, "Charging Park", lo=1, hi=64, doc="Charging park name (also shown by load management)"),
    Field("nominal_voltage_v", INT, 230, lo=100, hi=400, unit="V",
          doc="Phase voltage used to turn currents into power where no meter measures it"),
    Field("coordinated_locking", BOOL, True, doc="Stagger lock actuator movements across the park"),
    Field("parallel_lockings", INT, 3, lo=1, hi=12, doc="Lock actuators allowed to move at the same time"),
)  # fmt: skip

STATION = (
    Field("name", STR, "Charging Station", lo=1, hi=32, doc="Station name"),
    Field("location", STR, "", lo=0, hi=64, doc="Location"),
    Field("role", ENUM, "server", choices=("server", "client"),
          doc="Server (runs the park's services) or client (manual System Control/Module Switch)"),
    Field("address", STR, "", lo=0, hi=15,
          doc="IPv4 address of a client station on the internal ETH1 link (192.168.4.2..254; the server "
              "is 192.168.4.1); empty for the server"),
)  # fmt: skip
STATION_CHECKS = (ck.park_client("address", client=lambda c: c["role"] == "client"),)

# The `module` area (discovered modules) lives with its reader, services/controller_agent/areas.py.

# ---- load management (manual "WBM - Load Management"; REST load_circuits on port 1603) ----------------

# a member point: its UID, its surplus opt-in and its phase contactor (iomodule/phases.py, sent to the module)
_POINT_ITEM = (
    Field("uid", STR, "", lo=1, hi=64, doc="Device UID of a charging point"),
    Field("surplus", BOOL, False, doc="Charges from the surplus only (the higher-level meter's export)"),
    *phases.FIELDS,
)

LOADCIRCUIT = (
    Field("name", STR, "Load Circuit", lo=1, hi=32, rest="load_circuit_name", doc="Load circuit name"),
    Field("fuse_a", INT, 32, lo=6, hi=2000, unit="A", rest="fuse",
          doc="Load circuit fuse: the most all its charging points may draw together (fuse B)"),
    Field("threshold_a", INT, 3, lo=1, hi=80, unit="A",
          doc="Threshold to current reduction: a car drawing this much below its set current gets less"),
    Field("meter_connection", ENUM, "none", choices=("none", "tcp", "rs485"),
          doc="High level measuring device: none, Modbus/TCP, or on a charging point's RS-485"),
    Field("rs485_point", STR, "", lo=0, hi=64, doc="Device UID of the point whose RS-485 carries the meter"),
    Field("meter_ip", STR, "", lo=0, hi=15, rest="ip_address", doc="IPv4 address of the Modbus/TCP meter"),
    Field("meter_type", ENUM, "eem377", choices=("eem377", "ma370"), rest="measuring_device_type",
          doc="Type of the Modbus/TCP meter: Phoenix Contact EEM-EM377 or EEM-MA370"),
    Field("meter_modbus_id", INT, 1, lo=1, hi=247, rest="modbus_id", doc="Modbus unit id of the meter"),
    Field("upstream_fuse_a", INT, 63, lo=6, hi=6300, unit="A",
          doc="Higher level fuse (fuse A), watched through the high level measuring device"),
    Field("strategy", ENUM, "equal", choices=("equal",), rest="charging_rule",
          doc="Load strategy: equal distribution"),
    Field("points", LIST, [], hi=144, item=_POINT_ITEM, rest="charging_points",
          doc="Charging points in this load circuit (REST: a list of the device UIDs)"),
    # surplus charging (beyond the manual; loadmgmt/surplus.py): the points with `surplus` set charge only
    # from what the higher-level meter sees exported
    Field("surplus_start_w", INT, 0, lo=0, hi=50000, unit="W",
          doc="Surplus charging: a point starts when the surplus exceeds its minimum charging power by this"),
    Field("surplus_stop_w", INT, 500, lo=0, hi=50000, unit="W",
          doc="Surplus charging: a point stops when the surplus falls short of its minimum power by more "
              "than this (grid import tolerated; start + stop is the hysteresis)"),
    Field("surplus_min_run_s", INT, 300, lo=0, hi=3600, unit="s",
          doc="Surplus charging: a started point runs at least this long (at its minimum, from the grid if need be)"),
)  # fmt: skip


def _threshold_below_fuse(c: Record) -> ck.Problem:
    if c["threshold_a"] >= c["fuse_a"]:
        return ("threshold_a", "must be below the load circuit fuse")
    return None


def _upstream_not_below_fuse(c: Record) -> ck.Problem:
    if c["meter_connection"] != "none" and c["upstream_fuse_a"] < c["fuse_a"]:
        return ("upstream_fuse_a", "must not be below the load circuit fuse")
    return None


def _rs485_point_named(c: Record) -> ck.Problem:
    if c["meter_connection"] == "rs485" and not c["rs485_point"]:
        return ("rs485_point", "required for an RS-485 meter")
    return None


def _points_unique(c: Record) -> ck.Problem:
    seen: set[str] = set()
    for i, entry in enumerate(c["points"]):
        if entry["uid"] in seen:
            return ("points[%d].uid" % i, "listed twice")
        seen.add(entry["uid"])
    return None


def _surplus_needs_a_meter(c: Record) -> ck.Problem:
    for i, entry in enumerate(c["points"]):
        if entry["surplus"] and c["meter_connection"] == "none":
            return ("points[%d].surplus" % i, "surplus charging needs the higher-level measuring device")
    return None


LOADCIRCUIT_CHECKS = (
    _threshold_below_fuse,
    _surplus_needs_a_meter,
    _upstream_not_below_fuse,
    _rs485_point_named,
    _points_unique,
    ck.ipv4("meter_ip", required_if=lambda c: c["meter_connection"] == "tcp", public=True),
)

# ---- OCPP (manual "OCPP settings" and "CHARX Variables | Servervariables") ------------------------------
# Field names are the OCPP configuration key names, so GetConfiguration/ChangeConfiguration map 1:1;
# the WBM-only connection settings are marked `wbm_only`.

OCPP = (
    # Connection (WBM only; not OCPP keys)
    Field("ProtocolVersion", ENUM, "ocpp1.6j", choices=("ocpp1.6j",), wbm_only=True, doc="Only OCPP 1.6J"),
    Field("Interface", ENUM, "eth0", choices=("eth0", "wlan0", "ppp0"), wbm_only=True,
          doc="Network interface to the backend"),
    Field("BackendURL", STR, "", lo=0, hi=512, wbm_only=True,
          doc="ws:// or wss:// URL ending in the charge box id; empty = no backend"),
    Field("ChargePointModel", STR, "chargepark AC", lo=1, hi=20, wbm_only=True,
          doc="Charging station model (BootNotification)"),
    Field("ChargePointVendor", STR, "chargepark", lo=1, hi=20, wbm_only=True, doc="Charging station manufacturer"),
    Field("ChargePointSerialNumber", STR, "", lo=0, hi=25, wbm_only=True,
          doc="Charging station serial number (optional)"),
    # Basic Authentication (also OCPP keys)
    Field("AuthorizationUser", STR, "", lo=0, hi=64, doc="Basic Authentication user; usually the charge box id"),
    Field("AuthorizationKey", STR, "", lo=0, hi=64,
          doc="Basic Authentication password (GetConfiguration answers ****)"),
    # OCPP 1.6 Core profile keys
    Field("HeartbeatInterval", INT, 300, lo=10, hi=86400, unit="s", doc="Heartbeat interval"),
    Field("ConnectionTimeOut", INT, 60, lo=10, hi=3600, unit="s",
          doc="Time for the EV to connect after an authorization before it lapses"),
    Field("MeterValueSampleInterval", INT, 60, lo=0, hi=3600, unit="s", doc="Sampled meter values; 0 = off"),
    Field("MeterValuesSampledData", STR, "Energy.Active.Import.Register", lo=0, hi=500,
          doc="Comma-separated measurands of sampled meter values"),
    Field("ClockAlignedDataInterval", INT, 0, lo=0, hi=86400, unit="s", doc="Clock-aligned meter values; 0 = off"),
    Field("MeterValuesAlignedData", STR, "", lo=0, hi=500, doc="Comma-separated measurands, clock-aligned"),
    Field("StopTxnSampledData", STR, "", lo=0, hi=500, doc="Measurands in StopTransaction, sampled"),
    Field("StopTxnAlignedData", STR, "", lo=0, hi=500, doc="Measurands in StopTransaction, clock-aligned"),
    Field("LocalAuthorizeOffline", BOOL, True, doc="Authorize from the local list and cache while offline"),
    Field("LocalAuthListEnabled", BOOL, True, doc="Keep and use the backend's Local Authorization List"),
    Field("AuthorizationCacheEnabled", BOOL, True, doc="Keep and use the backend's answers on ids (cache)"),
    Field("LocalPreAuthorize", BOOL, False, doc="Start at once for locally known ids, before Authorize returns"),
    Field("AuthorizeRemoteTxRequests", BOOL, False, doc="Authorize the id of a RemoteStartTransaction first"),
    Field("StopTransactionOnInvalidId", BOOL, True, doc="Stop when the backend rejects the id of a running session"),
    Field("UnlockConnectorOnEVSideDisconnect", BOOL, True,
          doc="Unlock a socket in remote locking mode when the vehicle leaves (connected mode unlocks by itself)"),
    Field("TransactionMessageAttempts", INT, 3, lo=1, hi=100, doc="Tries per transaction message"),
    Field("TransactionMessageRetryInterval", INT, 60, lo=1, hi=3600, unit="s", doc="Wait between tries"),
    Field("ResetRetries", INT, 3, lo=0, hi=10, doc="Tries of an unsuccessful reset"),
    Field("MinimumStatusDuration", INT, 0, lo=0, hi=3600, unit="s",
          doc="A status must last this long before StatusNotification"),
    # CHARX variables
    Field("ServiceRestart", BOOL, False, doc="After a restart, register occupied points under ServiceUID"),
    Field("ServiceUID", STR, "", lo=0, hi=20, doc="RFID used by ServiceRestart"),
    Field("FreeMode", BOOL, False, doc="Authorize every plug-in at the backend with FreeModeUID"),
    Field("FreeModeUID", STR, "", lo=0, hi=20, doc="RFID used by FreeMode"),
    Field("EVDiscardTimeOut", INT, 60, lo=1, hi=3600, unit="s",
          doc="A read UID is discarded after this time if no vehicle connects"),
    Field("ForceUpdate", BOOL, False, doc="Install a software update even during charging sessions"),
    Field("GlobalMaxCurrent", INT, 0, lo=0, hi=6300, unit="A", doc="Total current of all points; 0 = no cap"),
    Field("LogLevel", ENUM, "INFO", choices=("DEBUG", "INFO"), doc="OCPP agent log detail"),
    Field("MaxCurrent", INT, 80, lo=6, hi=80, unit="A", doc="Maximum charging current of each point"),
    Field("ModemRestartTimeout", INT, 600, lo=0, hi=86400, unit="s",
          doc="Restart the modem after this long without a connection; 0 = never"),
    Field("NewBackendURL", STR, "", lo=0, hi=512, doc="Move the backend connection to this URL"),
    Field("PreUnavailabilityForUpdate", INT, 60, lo=0, hi=3600, unit="s",
          doc="Status F this long before an update is installed"),
    Field("RFIDByteOrder", ENUM, "BE", choices=("BE", "LE"), doc="Byte order of RFID UIDs"),
    Field("RFIDCharacterOrder", BOOL, False, doc="Swap the UID characters in 16-bit words"),
    Field("WebSocketPingTimeout", INT, 60, lo=5, hi=3600, unit="s",
          doc="Reconnect the websocket after this long without a ping answer"),
    Field("AllowTimeSyncDuringSession", BOOL, False, doc="Set the system time even during a session"),
    Field("AvailabilityOnlyWhenTimeSynchronized", BOOL, False, doc="Available only once the time is synchronized"),
    Field("EichrechtAdminList", STR, "", lo=0, hi=500, doc="Comma-separated admin UIDs for the display"),
    Field("MessageAtKeyTransfer", STR, "", lo=0, hi=255, doc="DataTransfer messageId with the public key"),
    Field("PresentingRFIDEndCharging", BOOL, True, doc="The same card again ends the session and unlocks"),
    Field("SignedDataFormat", INT, 0, lo=0, hi=2,
          doc="StopTransaction signed data: 0 OCMF, 1 transparency XML, 2 meter-specific"),
    Field("VendorAtKeyTransfer", STR, "", lo=0, hi=255, doc="DataTransfer vendorId with the public key"),
)  # fmt: skip

# The OCPP configuration keys that GetConfiguration lists and ChangeConfiguration may set.
OCPP_KEYS = tuple(f.name for f in OCPP if not f.wbm_only)


def _needs_uid(flag: str, uid: str) -> ck.Check:
    def check(c: Record) -> ck.Problem:
        if c[flag] and not c[uid]:
            return (uid, "required when %s is on" % flag)
        return None

    return check


OCPP_CHECKS = (
    ck.url("BackendURL", ("ws", "wss")),
    ck.url("NewBackendURL", ("ws", "wss")),
    _needs_uid("ServiceRestart", "ServiceUID"),
    _needs_uid("FreeMode", "FreeModeUID"),
)

# ---- Modbus (manual "Modbus": start addresses per charging point) -------------------------------------

MODBUS_AUTO = -1
_START_ITEM = (
    Field("uid", STR, "", lo=1, hi=64, doc="Device UID of the charging point"),
    Field(
        "start",
        INT,
        MODBUS_AUTO,
        lo=-1,
        hi=48000,
        doc="Start register: a multiple of 1000 from 1000 to 48000, or -1 = assigned automatically",
    ),
)
_CLIENT_ITEM = (Field("address", STR, "", lo=7, hi=18, doc="IPv4 address or network (address/prefix)"),)
MODBUS = (
    Field("server_enabled", BOOL, True, doc="Modbus/TCP server on"),
    Field("server_port", INT, 502, lo=1, hi=65535, doc="Modbus/TCP server port"),
    Field("start_addresses", LIST, [], hi=48, item=_START_ITEM,
          doc="Per-point start registers; points not listed are automatic"),
    Field("write_clients", LIST, [], hi=32, item=_CLIENT_ITEM,
          doc="Client addresses allowed to write registers; empty = the server is read-only"),
    Field("resets_enabled", BOOL, False,
          doc="Registers 165/166 (restart the head / every controller) accept writes; off by default"),
)  # fmt: skip


def _start_problem(entry: Record) -> tuple[str, str] | None:
    start = entry["start"]
    if start != MODBUS_AUTO and (start < 1000 or start % 1000):
        return ("start", "must be -1 (automatic) or a multiple of 1000 from 1000 to 48000")
    return None


def _client_problem(entry: Record) -> tuple[str, str] | None:
    try:
        ipaddress.IPv4Network(entry["address"], strict=False)
    except ValueError:
        return ("address", "must be an IPv4 address or address/prefix")
    return None


MODBUS_CHECKS = (
    ck.list_items("start_addresses", _start_problem),
    ck.list_items("write_clients", _client_problem),
)

# ---- whitelist (manual "WBM - Whitelist"; keyed by RFID tag / EVCC ID) -------------------------------

WHITELIST_MAX = 500
WHITELIST = (
    Field("type", ENUM, "rfid", choices=("rfid", "evccid"), rest="type", doc="RFID tag or ISO 15118 EVCC ID"),
    Field("name", STR, "", lo=0, hi=64, rest="label", doc="Name (optional)"),
    Field("allow_charging", BOOL, True, rest="active", doc="The user may charge"),
    Field("expiry_utc", STR, "2099-12-31T23:59:59Z", lo=20, hi=20, rest="expiry_date_utc",
          doc="No charging from this UTC time on"),
)  # fmt: skip
WHITELIST_CHECKS = (ck.utc_time("expiry_utc"),)

# ---- network (manual "WBM - Network": Ethernet, WLAN, Port Sharing, Modem, OpenVPN, routes) -----------

_ADDRESS_ITEM = (Field("address", STR, "", lo=1, hi=253, doc="IPv4 address or host name"),)
_PORT_ITEM = (
    Field("port", INT, 1, lo=1, hi=65535, doc="TCP/UDP port"),
    Field("open", BOOL, True, doc="Open (incoming: reachable from outside; outgoing: the head may connect)"),
    Field("label", STR, "", lo=0, hi=32, doc="What uses it"),
    Field("direction", ENUM, "in", choices=("in", "out"), doc="Incoming or outgoing port (manual: ADD PORT)"),
)
_ROUTE_ITEM = (
    Field("network", STR, "", lo=9, hi=18, doc="Destination, IPv4/prefix"),
    Field("gateway", STR, "", lo=7, hi=15, doc="Gateway IPv4 address"),
    Field("interface", ENUM, "eth0", choices=("eth0", "ppp0", "usb0", "wlan0"), doc="Interface"),
    Field("metric", INT, 0, lo=0, hi=9999, doc="Preference, 0 = highest"),
)
# Manual "Port Sharing" list; 1883 and 5555 closed by default as on CHARX firmware >= 1.8.
_DEFAULT_PORTS = [
    {"port": p, "open": p not in (1883, 5555), "label": label, "direction": "in"}
    for p, label in (
        (22, "SSH"),
        (80, "HTTP"),
        (81, "Custom website"),
        (443, "HTTPS"),
        (502, "Modbus server"),
        (1603, "Load management frame data"),
        (1883, "MQTT"),
        (2106, "OCPP remote"),
        (5000, "Web server"),
        (5353, "mDNS"),
        (5555, "JupiCore REST"),
        (9502, "Modbus client configuration"),
    )
]

NETWORK = (
    # Ethernet ETH0 (ETH1 is configured automatically for the park)
    Field("dhcp", BOOL, True, doc="ETH0 address from DHCP"),
    Field("no_gateway", BOOL, False, doc="With DHCP: ignore the offered gateway (no Internet via ETH0)"),
    Field("ip_address", STR, "", lo=0, hi=15, doc="Static ETH0 IPv4 address (without DHCP)"),
    Field("subnet_mask", STR, "255.255.255.0", lo=7, hi=15, doc="ETH0 subnet mask"),
    Field("gateway", STR, "", lo=0, hi=15, doc="Default gateway (without DHCP)"),
    Field("hostname", STR, "ev3000", lo=1, hi=63, doc="Host name"),
    Field("dns", LIST, [], hi=3, item=_ADDRESS_ITEM, doc="DNS name servers (max. 3)"),
    # WLAN
    Field("wlan_enabled", BOOL, False, doc="WLAN USB dongle on"),
    Field("wlan_mode", ENUM, "access_point", choices=("access_point", "infrastructure"), doc="Operation mode"),
    Field("wlan_ssid", STR, "", lo=0, hi=32, doc="Network name (own access point or the one to join)"),
    Field("wlan_password", STR, "", lo=0, hi=63, doc="WLAN password (8..63 characters when encrypted)"),
    Field("wlan_encryption", ENUM, "wpa2", choices=("wpa2", "wpa3", "none"), doc="Access point encryption"),
    Field("wlan_country", STR, "DE", lo=2, hi=2, doc="Regulatory country code (ISO 3166 alpha-2)"),
    Field("wlan_band", ENUM, "2.4ghz", choices=("2.4ghz", "5ghz"), doc="Access point frequency band"),
    Field("ap_network", STR, "192.168.0.1/24", lo=9, hi=18, doc="Access point network, address/prefix"),
    Field("ap_ip", STR, "192.168.0.1", lo=7, hi=15, doc="Access point IPv4 address"),
    Field("ap_dhcp_from", STR, "192.168.0.100", lo=7, hi=15, doc="First address handed out"),
    Field("ap_dhcp_to", STR, "192.168.0.200", lo=7, hi=15, doc="Last address handed out"),
    Field("ap_timeout_s", INT, 0, lo=0, hi=86400, unit="s",
          doc="Switch the access point off if nobody connects this long after start; 0 = never"),
    # Modem
    Field("modem_enabled", BOOL, False, doc="Cellular modem service active"),
    Field("sim_pin", STR, "", lo=0, hi=8, doc="SIM PIN (4..8 digits, empty = none)"),
    Field("apn", STR, "", lo=0, hi=100, doc="Access point name"),
    Field("apn_use_credentials", BOOL, False, doc="The APN needs a user and password"),
    Field("apn_user", STR, "", lo=0, hi=64, doc="APN user"),
    Field("apn_password", STR, "", lo=0, hi=64, doc="APN password"),
    Field("modem_default_route", BOOL, False, doc="Cellular link is the default route"),
    Field("modem_preferred", BOOL, False, doc="Prefer the modem over ETH0 (smaller metric)"),
    # Port sharing, routes, OpenVPN
    Field("ports", LIST, _DEFAULT_PORTS, hi=64, item=_PORT_ITEM,
          doc="Incoming and outgoing ports and whether they are open"),
    Field("routes", LIST, [], hi=32, item=_ROUTE_ITEM, doc="Persistent static routes"),
    Field("openvpn_mode", ENUM, "off", choices=("off", "on", "on_request"),
          doc="OpenVPN: permanently deactivated, permanently activated, or on request (remote MQTT command)"),
    Field("openvpn_config", STR, "", lo=0, hi=65536, doc="OpenVPN client configuration file text (pasted)"),
    Field("openvpn_imported", STR, "", lo=0, hi=255,
          doc="File name of an imported OpenVPN configuration; its text is kept outside the store, root only"),
)  # fmt: skip


def _static(c: Record) -> bool:
    return not c["dhcp"]


def _country(c: Record) -> ck.Problem:
    code = c["wlan_country"]
    if not (code.isascii() and code.isalpha() and code.isupper()):
        return ("wlan_country", "must be two capital letters such as DE")
    return None


def _wlan_password(c: Record) -> ck.Problem:
    if c["wlan_enabled"] and c["wlan_encryption"] != "none" and len(c["wlan_password"]) < 8:
        return ("wlan_password", "must have at least 8 characters with encryption")
    return None


def _ap_addresses(c: Record) -> ck.Problem:
    try:
        net = ipaddress.IPv4Interface(c["ap_network"]).network
        lo, hi = ipaddress.IPv4Address(c["ap_dhcp_from"]), ipaddress.IPv4Address(c["ap_dhcp_to"])
        ap = ipaddress.IPv4Address(c["ap_ip"])
    except ValueError:
        return None  # the field checks report the malformed one
    if ap not in net:
        return ("ap_ip", "must lie in the access point network %s" % net)
    if lo not in net or hi not in net:
        return ("ap_dhcp_from", "the DHCP range must lie in the access point network %s" % net)
    if lo > hi:
        return ("ap_dhcp_to", "must not be below the start of the DHCP range")
    return None


def _eth0_apart_from_wlan(c: Record) -> ck.Problem:
    if not (c["wlan_enabled"] and c["wlan_mode"] == "access_point" and _static(c)):
        return None
    try:
        eth0 = ipaddress.IPv4Interface(c["ip_address"] + "/" + c["subnet_mask"]).network
        wlan = ipaddress.IPv4Interface(c["ap_network"]).network
    except ValueError:
        return None
    if eth0.overlaps(wlan):
        return ("ip_address", "ETH0 and the WLAN access point must be in different subnets")
    return None


def _sim_pin(c: Record) -> ck.Problem:
    pin = c["sim_pin"]
    if pin and not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        return ("sim_pin", "must be 4..8 digits")
    return None


def _apn_credentials(c: Record) -> ck.Problem:
    if c["modem_enabled"] and c["apn_use_credentials"] and not c["apn_user"]:
        return ("apn_user", "required when the APN needs credentials")
    return None


def _ports_unique(c: Record) -> ck.Problem:
    seen: set[tuple[int, str]] = set()
    for i, entry in enumerate(c["ports"]):
        if (entry["port"], entry["direction"]) in seen:
            return ("ports[%d].port" % i, "listed twice")
        seen.add((entry["port"], entry["direction"]))
    return None


def _dns_problem(entry: Record) -> tuple[str, str] | None:
    problem = ck.ipv4_problem(entry["address"])
    return ("address", problem) if problem else None


def _route_problem(entry: Record) -> tuple[str, str] | None:
    try:
        ipaddress.IPv4Network(entry["network"], strict=False)
    except ValueError:
        return ("network", "must be IPv4/prefix such as 10.0.0.0/8")
    problem = ck.ipv4_problem(entry["gateway"])
    return ("gateway", problem) if problem else None


def _openvpn_config(c: Record) -> ck.Problem:
    if c["openvpn_mode"] != "off" and not (c["openvpn_config"].strip() or c["openvpn_imported"]):
        return ("openvpn_config", "required unless OpenVPN is off (pasted or imported)")
    return None


NETWORK_CHECKS = (
    ck.ipv4("ip_address", required_if=_static, public=True),
    ck.netmask("subnet_mask"),
    ck.ipv4("gateway", public=True),
    ck.host_in_subnet("ip_address", "ip_address", "subnet_mask", when=_static),
    ck.host_in_subnet("gateway", "ip_address", "subnet_mask", when=_static),
    ck.hostname("hostname"),
    ck.list_items("dns", _dns_problem),
    ck.cidr("ap_network", public=True),
    ck.required("wlan_ssid", lambda c: c["wlan_enabled"], "when WLAN is on"),
    ck.printable_ascii("wlan_password"),
    ck.ipv4("ap_ip"),
    ck.ipv4("ap_dhcp_from"),
    ck.ipv4("ap_dhcp_to"),
    _ap_addresses,
    _eth0_apart_from_wlan,
    _country,
    _wlan_password,
    _sim_pin,
    _apn_credentials,
    _ports_unique,
    ck.list_items("routes", _route_problem),
    _openvpn_config,
)

# ---- MQTT bridge (manual "MQTT Bridge": configuration and topic forwarding) ---------------------------

_TOPIC_ITEM = (
    Field("local", STR, "", lo=1, hi=256, doc="Topic on the local broker ('+' may stand for the device id)"),
    Field("remote", STR, "", lo=1, hi=256, doc="Topic on the remote broker (below prefix/device type/id)"),
    Field("direction", ENUM, "out", choices=("out", "in"), doc="out: local -> remote; in: remote -> local"),
)
MQTT_BRIDGE = (
    Field("broker", STR, "", lo=0, hi=253, doc="Remote broker host name or address; empty = bridge off"),
    Field("port", INT, 8883, lo=1, hi=65535, doc="Remote broker port"),
    Field("user", STR, "", lo=0, hi=64, doc="User at the remote broker"),
    Field("password", STR, "", lo=0, hi=64, doc="Password at the remote broker"),
    Field("prefix", STR, "chargepark", lo=0, hi=64, doc="Added prefix: <prefix>/<device type>/<device id>/..."),
    Field("station_name", STR, "", lo=0, hi=64, doc="Station name published in .../config"),
    Field("location", STR, "", lo=0, hi=64, doc="Location published in .../config"),
    Field("certificate", STR, "", lo=0, hi=16384, doc="PEM certificate that authenticates the remote broker"),
    Field("topics", LIST, [], hi=64, item=_TOPIC_ITEM, doc="Topic forwarding rows"),
)  # fmt: skip


def _topic_problem(entry: Record) -> tuple[str, str] | None:
    source, target = ("local", "remote") if entry["direction"] == "out" else ("remote", "local")
    problem = ck.mqtt_topic(entry[source], wildcards=True)
    if problem:
        return (source, problem)
    problem = ck.mqtt_topic(entry[target], wildcards=False)
    return (target, problem) if problem else None


def _topics_need_broker(c: Record) -> ck.Problem:
    if c["topics"] and not c["broker"]:
        return ("broker", "required to forward topics")
    return None


def _certificate(c: Record) -> ck.Problem:
    """The remote broker's CA, checked as the OCPP backend's is (one checker: `ocpp.cacert`)."""
    if not c["certificate"]:
        return None
    try:
        cacert.check(c["certificate"].encode("utf-8", "replace"))  # a lone surrogate is refused, not raised
    except cacert.Refused as e:
        return ("certificate", str(e))
    return None


MQTT_BRIDGE_CHECKS = (ck.list_items("topics", _topic_problem), _topics_need_broker, _certificate)

# ---- system (manual "WBM - System Control") -----------------------------------------------------------

SYSTEM = (
    Field("name", STR, "chargepark", lo=1, hi=64, doc="System name shown in the WBM"),
    Field("ntp_enabled", BOOL, True, doc="Synchronize the clock over NTP (the system runs on UTC)"),
    Field("ntp_servers", LIST, [{"address": "pool.ntp.org"}], hi=3, item=_ADDRESS_ITEM, doc="NTP servers"),
    Field("timezone", STR, "UTC", lo=1, hi=64,
          doc="Time zone of the local time the WBM shows beside UTC (IANA name; the system runs on UTC)"),
    Field(
        "log_level", ENUM, "info", choices=("debug", "info", "warning", "error"), doc="Services' log level"
    ),
    Field("calibration_law", BOOL, False, doc="Calibration law (Eichrecht) mode with its agent"),
    # Ports of the head's own servers (`chargepark run` flags override them)
    Field("mqtt_port", INT, 1883, lo=1, hi=65535,
          doc="Port of the local MQTT broker the supervisor starts on loopback"),
    Field("mqtt_system_broker", STR, "", lo=0, hi=260,
          doc="host:port of a system broker to use instead; empty = the supervisor starts its own"),
    Field("park_broker", STR, "", lo=0, hi=21,
          doc="IPv4 address:port of the park server's broker on the ETH1 link: a client bridges its points "
              "there, the server listens there beside loopback; empty = 192.168.4.1:1883 (the same on every "
              "head of a park)"),
    # The park link's secret: empty refuses every client, for a cabinet's internal link must not take
    # commands (unlock a socket) from anything plugged into ETH1 until its maker set the secret.
    Field("park_password", STR, "", lo=0, hi=64,
          doc="Secret shared by the heads of a park: a client's bridge logs in with it at the server's park "
              "listener; empty = the server refuses every client (set the same one on every head; takes "
              "effect when every service restarts, e.g. the WBM's reboot)"),
    Field("rest_port", INT, 5555, lo=1, hi=65535, doc="JupiCore REST API port"),
    Field("loadmgmt_port", INT, 1603, lo=1, hi=65535,
          doc="Load management REST port (CHARX 1603); `chargepark run` takes a free one when it is in use"),
    Field("web_port", INT, 8080, lo=1, hi=65535,
          doc="WBM port (8080: the non-root development default; the CHARX serves 80/443 behind nginx)"),
    Field("https_port", INT, 8443, lo=0, hi=65535,
          doc="WBM HTTPS port, self-signed certificate made at first start (0 = no HTTPS; 443 on a real head)"),
    Field("update_public_key", STR, "", lo=0, hi=512,
          doc="Ed25519 public key (PEM) software bundles must be signed with; empty = no bundle is installed"),
)  # fmt: skip


def _ntp_servers(c: Record) -> ck.Problem:
    if c["ntp_enabled"] and not c["ntp_servers"]:
        return ("ntp_servers", "at least one server when NTP is on")
    return None


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # reads the database's directory: once


def _timezone(c: Record) -> ck.Problem:
    if c["timezone"] not in _zones():
        return ("timezone", "not a time zone of the IANA database (such as Europe/Berlin)")
    return None


def _ports_apart(c: Record) -> ck.Problem:
    if c["rest_port"] == c["web_port"]:
        return ("web_port", "must differ from the REST port")
    if c["https_port"] in (c["rest_port"], c["web_port"]):
        return ("https_port", "must differ from the REST and WBM ports")
    if not c["mqtt_system_broker"] and c["mqtt_port"] in (c["rest_port"], c["web_port"]):
        return ("mqtt_port", "must differ from the REST and WBM ports")
    return None


def _park_broker(c: Record) -> ck.Problem:
    if c["park_broker"] == "":
        return None
    try:
        host, _port = ck.split_host_port(c["park_broker"])
        ipaddress.IPv4Address(host)  # the server's broker binds it: an address, not a name
    except ValueError:
        return ("park_broker", "must be an IPv4 address:port such as 192.168.4.1:1883")
    return None


def _park_password(c: Record) -> ck.Problem:
    """One mosquitto configuration line on the client (its parser drops leading and trailing blanks)."""
    text = c["park_password"]
    if not all(" " <= ch <= "~" for ch in text) or text != text.strip():
        return ("park_password", "only printable ASCII characters, no leading or trailing blanks")
    return None


def _update_key(c: Record) -> ck.Problem:
    key = c["update_public_key"].strip()
    if key and not (
        key.startswith("-----BEGIN PUBLIC KEY-----") and key.endswith("-----END PUBLIC KEY-----")
    ):
        return ("update_public_key", "must be a PEM public key (-----BEGIN PUBLIC KEY-----)")
    return None


SYSTEM_CHECKS = (
    _ntp_servers,
    _timezone,
    ck.host_port("mqtt_system_broker"),
    _park_broker,
    _park_password,
    _ports_apart,
    _update_key,
)

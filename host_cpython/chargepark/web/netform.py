"""The network pages' forms, generated from the network area's schema (`config.schemas.NETWORK`) as
`forms` does for the charging point: which page of the manual's "Network" chapter each field is on and
when it is shown; labels are the manual's (`network.docs.SETTINGS`, the table docs/network.md is made
from). List fields (DNS servers, ports, routes) are rows named `<field>.<row>.<item>` plus one new row
`new.<field>.<item>` (a short list: all its slots); the store validates."""

from __future__ import annotations

import ipaddress
from typing import Any

import chargeschema as cs

from chargepark.config.schemas import NETWORK
from chargepark.network import docs, modem
from chargepark.network.layout import NOT_AVAILABLE
from chargepark.web import forms

# The manual's pages, in its order: (anchor, title, fields).
PAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ethernet", "Ethernet", ("dhcp", "no_gateway", "ip_address", "subnet_mask", "gateway", "hostname", "dns")),
    ("wlan", "WLAN", ("wlan_enabled", "wlan_mode", "wlan_ssid", "wlan_password", "wlan_encryption", "ap_network",
                      "ap_ip", "ap_dhcp_from", "ap_dhcp_to", "wlan_band", "wlan_country", "ap_timeout_s")),
    ("ports", "Port Sharing", ("ports",)),
    ("modem", "Modem", ("modem_enabled", "sim_pin", "apn", "apn_use_credentials", "apn_user", "apn_password",
                        "modem_default_route", "modem_preferred")),
    ("openvpn", "OpenVPN", ("openvpn_mode", "openvpn_config")),
    ("routes", "Routing table", ("routes",)),
)  # fmt: skip
# Shown on a page but not edited in its form: the imported file is set by its own upload.
READ_ONLY = ("openvpn_imported",)
GROUPS: forms.Groups = tuple((title, names) for _, title, names in PAGES)
BY_NAME = {f.name: f for f in NETWORK}
_AP = ("access_point",)
# field -> (the field that decides, the values that show it): the manual's visibility rules.
SHOWN_WHEN: forms.Rules = {
    "no_gateway": ("dhcp", (True,)),  # "visible once DHCP has been selected"
    "ip_address": ("dhcp", (False,)),
    "subnet_mask": ("dhcp", (False,)),
    "gateway": ("dhcp", (False,)),
    "wlan_encryption": ("wlan_mode", _AP),  # the Access Point's own fields
    "ap_network": ("wlan_mode", _AP),
    "ap_ip": ("wlan_mode", _AP),
    "ap_dhcp_from": ("wlan_mode", _AP),
    "ap_dhcp_to": ("wlan_mode", _AP),
    "wlan_band": ("wlan_mode", _AP),
    "ap_timeout_s": ("wlan_mode", _AP),
    "apn_user": ("apn_use_credentials", (True,)),
    "apn_password": ("apn_use_credentials", (True,)),
}
NEW = "new"  # the prefix of a list's new row
REMOVE = "remove"  # a row's checkbox that drops it
SLOTS = 3


def label(name: str) -> str:
    """The manual's label of a field or list item (`ports[].port`)."""
    return docs.SETTINGS[name][0]


def shown_values(values: tuple[Any, ...]) -> str:
    """A rule's values as the page script compares them (a checkbox is on or off)."""
    return " ".join(("on" if v else "off") if isinstance(v, bool) else str(v) for v in values)


def secret(name: str) -> bool:
    """A field the page masks while typing."""
    return "password" in name or name == "sim_pin"


def route_of(row: dict[str, Any]) -> dict[str, Any] | None:
    """A routing table row (`routes.table`) as a route the API can remove; None for a route without a
    gateway (the area's route rules need one)."""
    if row["gateway"] in ("", "0.0.0.0"):
        return None
    prefix = ipaddress.IPv4Network("0.0.0.0/%s" % row["genmask"]).prefixlen
    return {"network": "%s/%d" % (row["destination"], prefix), "gateway": row["gateway"],
            "interface": row["iface"], "metric": row["metric"]}  # fmt: skip


def layout(record: dict[str, Any]) -> list[tuple[str, str, list[forms.FormField]]]:
    """Each page: anchor, title and its fields with values and visibility."""
    laid = forms.layout(record, GROUPS, BY_NAME, SHOWN_WHEN, ())
    return [(anchor, title, fields) for (anchor, _, _), (title, fields) in zip(PAGES, laid, strict=True)]


def slots(f: cs.Field) -> bool:
    """A short list (the 3 DNS servers) is shown as all its slots; a longer one as rows and a new row."""
    return bool(f.hi <= SLOTS)


def _rows(form: dict[str, str], f: cs.Field) -> list[dict[str, Any]]:
    """The rows of list field `f`: those the page showed (minus removed ones), then a filled new row."""
    indexes = sorted({int(k.split(".")[1]) for k in form if k.startswith(f.name + ".") and k.count(".") == 2
                      and k.split(".")[1].isdigit()})  # fmt: skip
    prefixes = ["%s.%d." % (f.name, i) for i in indexes if form.get("%s.%d.%s" % (f.name, i, REMOVE)) != "on"]
    first = f.item[0].name
    if form.get("%s.%s.%s" % (NEW, f.name, first), "").strip():
        prefixes.append("%s.%s." % (NEW, f.name))
    rows = []
    for prefix in prefixes:
        row = {i.name: forms.typed(i, form.get(prefix + i.name)) for i in f.item}
        if slots(f) and not str(row[first]).strip():
            continue  # an empty slot is no entry
        rows.append(row)
    return rows


def parse_fields(
    form: dict[str, str], names: tuple[str, ...], by_name: dict[str, cs.Field]
) -> dict[str, Any]:
    """Fields `names` from a form, typed (an absent checkbox is off; a list is its rows). The Modbus page
    parses its form with this too."""
    out: dict[str, Any] = {}
    for n in names:
        f = by_name[n]
        if f.kind == cs.LIST:
            out[n] = _rows(form, f)
        elif n in form or f.kind == cs.BOOL:
            out[n] = forms.typed(f, form.get(n))
    return out


def parse(form: dict[str, str], page: str) -> dict[str, Any]:
    """One network page's fields from its form."""
    return parse_fields(form, next(names for anchor, _, names in PAGES if anchor == page), BY_NAME)


# ---- the applied side: what the system has now, beside each page's form -----------------------------

_STATUS_LABELS = {path: label for path, label, _ in docs.STATUS_SOURCES}
# Page -> the status document's part and its fields shown (labels: docs.STATUS_SOURCES, modem.FIELDS).
APPLIED: dict[str, tuple[str, tuple[str, ...]]] = {
    "ethernet": ("eth0", ("ipv4", "broadcast", "ipv6", "rx_bytes", "tx_bytes", "mac")),
    "wlan": ("wlan", ("ssid", "status", "ip", "signal_dbm", "gateway", "dns")),
    "ports": ("firewall", ("loaded", "open_in", "closed_out")),
    "modem": ("modem", tuple(modem.FIELDS)),
    "openvpn": ("openvpn", ("status", "server_ip", "private_ip", "connected_since")),
}
# What the status document holds that the manual labels but no status table names.
_OTHER_LABELS = {"wlan.ssid": "SSID", "wlan.dns": "DNS"}


def applied_rows(page: str, applied: dict[str, Any]) -> list[tuple[str, str]]:
    """(label msgid, value) of one page's applied side; empty for a page that only configures."""
    if page not in APPLIED:
        return []
    part, keys = APPLIED[page]
    values = applied.get(part) or {}
    rows = []
    for key in keys:
        path = "%s.%s" % (part, key)
        name = modem.FIELDS[key] if part == "modem" else _STATUS_LABELS.get(path) or _OTHER_LABELS[path]
        value = values.get(key)
        if part == "eth0" and key == "ipv4" and value:
            value = "%s/%s" % (value, values.get("prefix", ""))
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        if isinstance(value, bool):
            value = "\u2713" if value else "-"
        rows.append((name, "-" if value in (None, "") else str(value)))
    return rows


def status_msgids() -> set[str]:
    """The applied side's labels (for the catalogs)."""
    return {label for page in APPLIED for label, _ in applied_rows(page, {})}


def msgids() -> set[str]:
    """Every label, title and choice the network page shows from its tables (for the catalogs)."""
    ids = {title for _, title, _ in PAGES} | status_msgids() | {NOT_AVAILABLE}
    for name in (*(n for _, _, names in PAGES for n in names), *READ_ONLY):
        f = BY_NAME[name]
        ids.add(label(name))
        ids.update(str(c) for c in f.choices or ())
        for item in f.item or ():
            ids.add(label("%s[].%s" % (name, item.name)))
            ids.update(str(c) for c in item.choices or ())
    return ids

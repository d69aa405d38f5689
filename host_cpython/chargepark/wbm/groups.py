"""The manual's Import/Export sub-registers (System Control/Time, "Import/Export") as parts of the
configuration areas: a whole area, or the named fields of one (the network area holds both the system
configuration and OpenVPN). The one table the export/import routes (`wbm.backup`), their roles
(`auth.matrix`) and the page are built from.
"""

from __future__ import annotations

from chargepark.config.areas import AREAS

OPENVPN_FIELDS = tuple(f.name for f in AREAS["network"].fields if f.name.startswith("openvpn_"))
NETWORK_SYSTEM_FIELDS = tuple(f.name for f in AREAS["network"].fields if f.name not in OPENVPN_FIELDS)

# group id -> (the manual's title, ((area, its fields or None for the whole area), ...))
GROUPS: dict[str, tuple[str, tuple[tuple[str, tuple[str, ...] | None], ...]]] = {
    "charging_park": ("Charging park", (("park", None), ("station", None), ("chargepoint", None))),
    "rfid_board": ("CHARX RFID/NFC configuration", (("rfidboard", None),)),
    "whitelist": ("Whitelist", (("whitelist", None),)),
    "load_management": ("Load management", (("loadcircuit", None),)),
    "ocpp": ("OCPP", (("ocpp", None),)),
    "system": ("System configuration (Ethernet, port sharing, modem)",
               (("network", NETWORK_SYSTEM_FIELDS), ("system", None), ("modbus", None))),
    "mqtt_bridge": ("MQTT bridge (configuration, topic forwarding)", (("mqtt_bridge", None),)),
    "openvpn": ("OpenVPN", (("network", OPENVPN_FIELDS),)),
}  # fmt: skip


def group_op(group: str, verb: str) -> str:
    """The operation id of a group's export or import route."""
    return "backup_%s_%s" % (group, verb)


def areas_of(group: str) -> tuple[str, ...]:
    return tuple(a for a, _ in GROUPS[group][1])

"""The role matrix: every operation of the WBM API (its OpenAPI operation id) -> the lowest role allowed.

The one table that decides every WBM route (`auth.guard`): an operation it does not name is refused, and
`tests/host/test_wbm_roles.py` walks every operation of `docs/openapi/wbm.json` with every role. Rights as
the manual's "User roles" table (`roles.LOGINS`); the per-point operations as its Table 5-4 ("The only user
with full operational authorization for charging points is the Manufacturer"; charging releases are User).
"""

from __future__ import annotations

from chargepark.auth.roles import Role
from chargepark.config.areas import AREAS
from chargepark.wbm.groups import GROUPS, areas_of, group_op

GUEST, USER, OPERATOR, MANUFACTURER = Role.GUEST, Role.USER, Role.OPERATOR, Role.MANUFACTURER

# Who may change each configuration area through the WBM (reading is User). `module` is absent: it is
# written by discovery, the park tree shows it.
AREA_WRITERS: dict[str, Role] = {
    "whitelist": USER,  # editing of whitelists
    "network": OPERATOR,  # network
    "ocpp": OPERATOR,  # backend
    "modbus": OPERATOR,  # backend (Modbus/TCP server)
    "mqtt_bridge": OPERATOR,  # backend (remote broker)
    "loadcircuit": OPERATOR,  # load management
    "park": MANUFACTURER,
    "station": MANUFACTURER,
    "chargepoint": MANUFACTURER,
    "rfidboard": MANUFACTURER,  # Charging Stations | CHARX RFID/NFC Board, beside the points' configuration
    "system": MANUFACTURER,
}

# The areas the WBM does not edit, and why (a test checks that every area is in one of the two tables).
AREAS_NOT_EDITED: dict[str, str] = {
    "module": "written by discovery; the park tree shows it",
    "parkpoint": "a park client's agent replicates it from its server (park/client.py)",
    "control": "the JupiCore REST control path and the point operations set it",
}

# Verbs of the per-area routes (wbm/config.py builds them): reads first, then writes.
AREA_READS = ("read", "export")
KEYED_READS = ("list",)
AREA_WRITES = ("write", "validate", "delete", "import")


def config_op(area: str, verb: str) -> str:
    """The operation id of one per-area configuration route."""
    return "config_%s_%s" % (area, verb)


def _config_ops() -> dict[str, Role]:
    ops: dict[str, Role] = {}
    for area, writer in AREA_WRITERS.items():
        reads = AREA_READS + (KEYED_READS if AREAS[area].keyed else ())
        ops.update({config_op(area, v): USER for v in reads})
        ops.update({config_op(area, v): writer for v in AREA_WRITES})
    return ops


FIXED: dict[str, Role] = {
    # the guest dashboard and the login itself
    "dashboard_page": GUEST,
    "dashboard_summary": GUEST,
    "auth_session": GUEST,
    "auth_login": GUEST,
    "auth_logout": USER,
    "auth_change_password": USER,
    # park, live state, sessions
    "park_tree": USER,
    "live_park": USER,
    "live_point": USER,
    "live_events": USER,
    "rfid_boards": USER,
    "sessions_list": USER,
    "plot_park": USER,
    "plot_point": USER,
    "sessions_csv": USER,
    # whole configuration and the charging point's extra ways in
    "config_export_all": USER,
    "config_validate_all": MANUFACTURER,
    "config_import_all": MANUFACTURER,
    "config_chargepoint_copy": MANUFACTURER,
    "config_chargepoint_import_many": MANUFACTURER,
    # Table 5-4
    "point_enable": MANUFACTURER,
    "point_release": USER,
    "point_enforce_unlock": MANUFACTURER,
    "point_reset_error": MANUFACTURER,
    # system control
    "services_status": USER,
    "services_restart": OPERATOR,
    "ocpp_status": USER,  # the OCPP page (its settings and server variables: the ocpp area's writer)
    "ocpp_certificate_upload": OPERATOR,  # as the ocpp area's settings it belongs to
    "ocpp_certificate_delete": OPERATOR,
    "logs_download": USER,
    "time_show": USER,
    "loadmgmt_status": USER,  # the Load Management page (its configuration: the loadcircuit area's writer)
    "loadmgmt_plot": USER,
    "time_set": OPERATOR,
    # the whitelist beside its configuration area (editing of whitelists is User)
    "whitelist_entry_read": USER,
    "whitelist_entry_write": USER,
    "whitelist_csv_export": USER,
    "whitelist_csv_import": USER,
    "whitelist_recent": USER,
    "whitelist_teach": USER,
    "time_settings": OPERATOR,
    "system_info": USER,
    "system_reboot": OPERATOR,  # as restarting one service
    "calibration_law_status": USER,  # System Control/Calibration Law: the overview
    "calibration_law_on": OPERATOR,  # its switch restarts every service, as the reboot
    "module_switch": MANUFACTURER,  # ends the server's services on this head: none of the Operator's rights
    "park_password": MANUFACTURER,  # the Module Switch page's: the park link's secret
    "developer_status": MANUFACTURER,  # Developer Mode is none of the Operator's rights: "no restrictions"
    "developer_password": MANUFACTURER,
    "developer_reset": MANUFACTURER,
    "software_status": USER,
    "software_upload": OPERATOR,  # "software updates"
    "software_install": OPERATOR,
    "certificate_status": OPERATOR,  # the WBM's own HTTPS certificate: as the network, Operator and Manufacturer
    "certificate_upload": OPERATOR,
    # network (the manual: the network pages are the Operator's and the Manufacturer's)
    "network_status": OPERATOR,
    "network_head": USER,  # the point status page shows the head's address
    "network_apply": OPERATOR,
    "network_route_add": OPERATOR,
    "network_route_remove": OPERATOR,
    "network_route_restore": OPERATOR,
    "network_vpn_test": OPERATOR,
    "network_vpn_up": OPERATOR,
    "network_vpn_down": OPERATOR,
    "network_vpn_import": OPERATOR,
    "network_vpn_delete": OPERATOR,
    "network_modem_restart": OPERATOR,
    "network_modem_test": OPERATOR,
    "network_wlan_scan": OPERATOR,
    # Modbus: the server and client status and the register map (the settings are the modbus area)
    "modbus_status": USER,
    "modbus_registers": USER,
    # MQTT Bridge: its connection and full topics (the settings are the mqtt_bridge area, Operator)
    "bridge_status": OPERATOR,
}

# The only operations a session that logged in with a factory password may use.
WHILE_PASSWORD_CHANGE_REQUIRED = frozenset({"auth_session", "auth_logout", "auth_change_password"})


def _group_ops() -> dict[str, Role]:
    """Import/Export per sub-register: reading is User; importing needs the writer of each area in it."""
    ops: dict[str, Role] = {}
    for group in GROUPS:
        ops[group_op(group, "export")] = USER
        ops[group_op(group, "import")] = max(AREA_WRITERS[a] for a in areas_of(group))
    return ops


ROLE_MATRIX: dict[str, Role] = {**FIXED, **_config_ops(), **_group_ops()}

"""The configuration a point's IO module is sent: its chargepoint record plus the module fields other areas
hold (pointconfig.DERIVED). One derivation for both sides: the controller agent pushes it, JupiCore's REST
waits for the module to report its checksum before it answers a write."""

from __future__ import annotations

from typing import Any

import pointconfig
from iomodule import phases
from iomodule.rfid import board as rfid_board

from chargepark.config.areas import AREAS
from chargepark.config.store import ConfigStore

Record = dict[str, Any]


def rfid_fields(store: ConfigStore, uid: str) -> Record:
    """The point's card reader fields kept in other areas: the UID rendering of the OCPP keys
    RFIDByteOrder / RFIDCharacterOrder, and its CHARX RFID/NFC board's profiles and buzzer."""
    ocpp = store.get("ocpp")
    board = store.get("rfidboard", uid) or AREAS["rfidboard"].defaults()
    fields = {f.name: board[f.name] for f in rfid_board.FIELDS}
    return dict(fields, rfid_byte_order=ocpp["RFIDByteOrder"], rfid_char_order=ocpp["RFIDCharacterOrder"])


def higher_meters(store: ConfigStore) -> dict[str, str]:
    """Load circuit -> the point whose module reads the circuit's higher-level meter on its RS-485 line."""
    out = {}
    for cid in store.keys("loadcircuit"):
        c = store.get("loadcircuit", cid)
        if c is not None and c["meter_connection"] == "rs485" and c["rs485_point"]:
            out[cid] = str(c["rs485_point"])
    return out


def load_fields(store: ConfigStore, uid: str) -> Record:
    """The module fields from the load circuits: `load_managed` (the module then waits for the
    manager's set-point) and its phase contactor (iomodule/phases.py) from the point's entry, and
    `higher_meter` where a circuit's higher-level meter is on this point's RS-485 line."""
    out: Record = {"load_managed": False, "higher_meter": uid in higher_meters(store).values()}
    for cid in store.keys("loadcircuit"):
        for entry in (store.get("loadcircuit", cid) or {"points": []})["points"]:
            if entry["uid"] == uid and not out["load_managed"]:
                out.update({f.name: entry[f.name] for f in phases.FIELDS}, load_managed=True)
    return out


def module_config(store: ConfigStore, uid: str) -> Record | None:
    """What the module of `uid` is sent (None: it is not configured)."""
    cfg = store.get("chargepoint", uid)
    if cfg is None:
        return None
    return dict(cfg, **rfid_fields(store, uid), **load_fields(store, uid))


def checksum(store: ConfigStore, uid: str) -> int | None:
    """The checksum the module reports once it runs what the store holds for it (None: not configured)."""
    cfg = module_config(store, uid)
    return None if cfg is None else int(pointconfig.checksum(pointconfig.module_part(cfg)))

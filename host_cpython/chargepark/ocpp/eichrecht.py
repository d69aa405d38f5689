"""Calibration law (Eichrecht) over OCPP: a signing meter's public key goes to the backend in a DataTransfer
(VendorAtKeyTransfer, MessageAtKeyTransfer), its signed record into StopTransaction (SignedDataFormat).

A point signs when its module reported its meter's public key (module area `meter_public_key`, event
`meter_key`: docs/point-api.md). The key transfer is sent once per connection after the backend accepted
the charge box, and again when a key or the meter's serial number changes (read after the key); its data is the JSON text
`{"connectorId": <id>, "meterSerial": "<serial or empty>", "publicKey": "<DER SubjectPublicKeyInfo, hex>"}`.
The StopTransaction of a signing point waits for the module's `meter_signed` record (at most SIGNED_WAIT_S)
and carries it in transactionData as a sampledValue of format SignedData.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ocpp.v16 import call

from chargepark.config.store import ConfigStore

log = logging.getLogger("chargepark.ocpp")

OCMF = 0
# SignedDataFormat values (the manual): only OCMF is what the meters here produce
FORMATS = {0: "OCMF", 1: "transparency software XML", 2: "measuring-device-specific format"}
SIGNED_WAIT_S = 20.0
MESSAGE_ID_MAX = 50  # the DataTransfer schema's messageId limit


def public_key(store: ConfigStore, uid: str) -> str:
    record = store.get("module", uid)
    return str(record.get("meter_public_key", "")) if record else ""


def signs(store: ConfigStore, settings: dict[str, Any], uid: str) -> bool:
    """The point's StopTransaction carries a signed record: its meter signs and the format is OCMF."""
    return bool(public_key(store, uid)) and int(settings["SignedDataFormat"]) == OCMF


def unsupported(key: str, raw: str) -> str | None:
    """Why a ChangeConfiguration value is valid but cannot be honoured here (then Rejected), else None."""
    if key == "SignedDataFormat" and raw.strip() in ("1", "2"):
        return "SignedDataFormat %s (%s): only OCMF (0) can be produced" % (raw.strip(), FORMATS[int(raw)])
    return None


def key_transfer(settings: dict[str, Any], connector: int, key: str, serial: str) -> call.DataTransfer:
    data = json.dumps(
        {"connectorId": connector, "meterSerial": serial, "publicKey": key}, separators=(",", ":")
    )
    message = str(settings["MessageAtKeyTransfer"])[:MESSAGE_ID_MAX]
    return call.DataTransfer(
        vendor_id=str(settings["VendorAtKeyTransfer"]), message_id=message or None, data=data
    )


def signed_value(record: str) -> dict[str, Any]:
    """The sampledValue of a signed record (OCMF text)."""
    return {"value": record, "context": "Transaction.End", "format": "SignedData",
            "measurand": "Energy.Active.Import.Register", "unit": "Wh"}  # fmt: skip


class KeyTransfers:
    """Which connector's key and meter serial the backend got on this connection (cleared at each new one).
    The module may read the key before the meter's serial number: the transfer then goes again with it."""

    def __init__(self) -> None:
        self.sent: dict[int, tuple[str, str]] = {}

    def due(self, store: ConfigStore, connectors: dict[int, str]) -> list[tuple[int, str, str]]:
        """(connector, key, meter serial) of each signing connector whose key and serial were not sent yet."""
        out = []
        for connector, uid in sorted(connectors.items()):
            record = store.get("module", uid) or {}
            key, serial = str(record.get("meter_public_key", "")), str(record.get("meter_serial", ""))
            if key and self.sent.get(connector) != (key, serial):
                out.append((connector, key, serial))
        return out

"""Calibration law (Eichrecht) over OCPP: a signing meter's public key goes to the backend in a DataTransfer
(VendorAtKeyTransfer, MessageAtKeyTransfer), its signed record into StopTransaction (SignedDataFormat).

A point signs when its module reported its meter's public key (module area `meter_public_key`, event
`meter_key`: docs/point-api.md). The key transfer is sent once per connection after the backend accepted
the charge box, and again when a key or the meter's serial number changes (read after the key); its data is the JSON text
`{"connectorId": <id>, "meterSerial": "<serial or empty>", "publicKey": "<DER SubjectPublicKeyInfo, hex>"}`.
The StopTransaction of a signing point waits for the module's `meter_signed` record (at most SIGNED_WAIT_S)
and carries it in transactionData as a sampledValue of format SignedData: the OCMF text (SignedDataFormat
0), or that text in the XML container the transparency software (S.A.F.E. e.V.) reads, with the meter's
public key beside it, so the value verifies on its own (1).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from xml.sax.saxutils import escape

from ocpp.v16 import call

from chargepark.config.store import ConfigStore

log = logging.getLogger("chargepark.ocpp")

OCMF, TRANSPARENCY_XML = 0, 1
# SignedDataFormat values (the manual); the meters here sign OCMF, which 1 wraps; 2 is not produced
FORMATS = {OCMF: "OCMF", TRANSPARENCY_XML: "transparency software XML", 2: "measuring-device-specific format"}
PRODUCED = (OCMF, TRANSPARENCY_XML)
SIGNED_WAIT_S = 20.0
MESSAGE_ID_MAX = 50  # the DataTransfer schema's messageId limit


def public_key(store: ConfigStore, uid: str) -> str:
    record = store.get("module", uid)
    return str(record.get("meter_public_key", "")) if record else ""


def signs(store: ConfigStore, settings: dict[str, Any], uid: str) -> bool:
    """The point's StopTransaction carries a signed record: its meter signs and the format is produced here."""
    return bool(public_key(store, uid)) and int(settings["SignedDataFormat"]) in PRODUCED


def unsupported(key: str, raw: str) -> str | None:
    """Why a ChangeConfiguration value is valid but cannot be honoured here (then Rejected), else None."""
    if key == "SignedDataFormat" and raw.strip() == "2":
        return "SignedDataFormat 2 (%s): the meters here sign OCMF; 0 (OCMF) or 1 (%s)" % (
            FORMATS[2],
            FORMATS[TRANSPARENCY_XML],
        )
    return None


def key_transfer(settings: dict[str, Any], connector: int, key: str, serial: str) -> call.DataTransfer:
    data = json.dumps(
        {"connectorId": connector, "meterSerial": serial, "publicKey": key}, separators=(",", ":")
    )
    message = str(settings["MessageAtKeyTransfer"])[:MESSAGE_ID_MAX]
    return call.DataTransfer(
        vendor_id=str(settings["VendorAtKeyTransfer"]), message_id=message or None, data=data
    )


def transparency_xml(record: str, key: str) -> str:
    """An OCMF record and the meter's public key (hex DER) in the transparency software's XML container. The
    record stays one line with nothing around it: whitespace in signedData breaks its verification."""
    return ('<?xml version="1.0" encoding="UTF-8"?><values><value transactionId="1" context="Transaction.End">'
            '<signedData format="OCMF" encoding="plain">%s</signedData><publicKey encoding="hex">%s</publicKey>'
            "</value></values>") % (escape(record), escape(key))  # fmt: skip


def signed_value(record: str, fmt: int, key: str) -> dict[str, Any]:
    """The sampledValue of a signed record (OCMF text) in SignedDataFormat `fmt`."""
    value = transparency_xml(record, key) if fmt == TRANSPARENCY_XML else record
    return {"value": value, "context": "Transaction.End", "format": "SignedData",
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

"""docs/ocpp.md names every OCPP 1.6 message and every configuration key we answer (the tables say how each
is covered, or "not yet")."""

from __future__ import annotations

from pathlib import Path

from chargepark.ocpp import keys
from ocpp.v16.enums import Action

DOC = (Path(__file__).resolve().parents[2] / "docs" / "ocpp.md").read_text()
SECURITY_EXTENSION = {"CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage", "GetInstalledCertificateIds",
                      "GetLog", "InstallCertificate", "LogStatusNotification", "SecurityEventNotification",
                      "SignCertificate", "SignedFirmwareStatusNotification", "SignedUpdateFirmware"}  # fmt: skip


def test_every_message_is_in_the_table() -> None:
    for action in Action:
        if action.value not in SECURITY_EXTENSION:
            assert "| " + action.value in DOC or ", " + action.value in DOC, action.value


def test_every_key_is_in_the_table() -> None:
    for key in [*keys.FIELDS, *keys.READ_ONLY_KEYS]:
        assert key in DOC, key

"""The WBM API's refusal messages in the chosen language. The store and the schema answer in English;
each message form they produce is one template here (`tests/host/test_wbm_i18n.py` checks that the
schema's and the checks' messages match one) and its translation is in the catalogs."""

from __future__ import annotations

import re
from collections.abc import Callable

TEMPLATES = (
    "must be true or false",
    "must be an integer",
    "must be >= %s",
    "must be <= %s",
    "must be a string",
    "must have at least %s characters",
    "must have at most %s characters",
    "must be one of %s",
    "must be a list of integers",
    "must be a list",
    "at most %s entries",
    "unknown field",
    "required",
    "charge current minimum must not exceed the maximum",
    "start temperature must be below the stop temperature",
    "start current must be above the stop current",
    "must not exceed the charge current maximum",
    "digital input %s does not exist",
    "analog input %s does not exist",
    "digital output %s does not exist",
    "only %s digital outputs exist",
    "PP current must be <= 80 A",
    "current must be <= 80 A",
    "wrong login or password",
    "wrong password",
    "must differ from the old, the factory password and the login",
    "password change required",
    "login required",
    "%s needs the role %s (you are %s)",
    "too many failed logins from %s: try again in %s s",
    # chargepark.ocpp.cacert: an uploaded CA certificate refused
    "a certificate file is at most %s bytes",
    "not a PEM certificate (-----BEGIN CERTIFICATE----- missing)",
    "not a valid PEM certificate: %s",
    "%s is not a CA certificate (BasicConstraints CA:TRUE missing)",
    "%s expired on %s",
    "%s is not valid before %s",
    "TLS cannot use it: %s",
    "no certificate is kept",
    # chargepark.web.tls: an uploaded HTTPS certificate and key refused (and the forms above)
    "a key file is at most %s bytes",
    "not a PEM private key (-----BEGIN PRIVATE KEY----- missing)",
    "not a valid PEM private key: %s",
    "the key is protected by a password: upload it unencrypted",
    "the key does not belong to the certificate",
    # chargepark.bridge.service: why the MQTT bridge is off (the MQTT Bridge page shows it)
    "no remote broker configured",
    "waiting for the station id (modules)",
    "user and password must be one line without leading or trailing blanks",
    # chargepark.bridge.rules.problem: a row the area takes but the bridge cannot carry
    "at most one '+' (the device id) in the local topic",
    "a remote -> local row forwards one remote topic or a '#' tree",
    "topics with white space cannot be bridged",
    # chargepark.services.calibration_law.checks: the assessments of the Calibration Law page
    "a signing energy meter",
    "no signing energy meter (calibration law needs one: %s)",
    "the meter's public key was read",
    "the meter's public key was not read yet (has the meter answered?)",
    "no user identification: the signed records name nobody",
    "the release identifies the user",
    "OCMF records in StopTransaction",
    "OCMF records in the transparency software's XML in StopTransaction",
    "format %s cannot be produced: StopTransaction carries no signed data",
    "the public keys go to the backend (DataTransfer)",
    "empty: the backend does not get the meters' public keys",
    "not card UIDs (hex): %s",
    "%s admin card(s) (for the CHARX display; no display here)",
    "the Calibration Law Agent runs",
    "switched off: the Calibration Law Agent does not run",
)


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(template).replace("%s", "(.+?)") + "$")


PATTERNS = tuple((t, _pattern(t)) for t in TEMPLATES)


def translate(message: str, gettext: Callable[[str], str]) -> str:
    """The message in the chosen language (as it came when no template matches)."""
    for template, pattern in PATTERNS:
        m = pattern.match(message)
        if m:
            return gettext(template) % m.groups() if m.groups() else gettext(template)
    return message

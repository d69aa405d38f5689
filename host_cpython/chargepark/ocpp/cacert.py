"""The CA certificate for a `wss://` backend (manual "Upload Certificate" / "Delete Certificate"): one or
more PEM CA certificates, checked with `cryptography` before they are kept in `<data>/ocpp_ca.pem`; the
TLS context of the backend connection trusts them (and only them) when the file is there, else the system's
CAs. Written by the WBM API, read by the OCPP service at each connection."""

from __future__ import annotations

import datetime
import hashlib
import os
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

FILE = "ocpp_ca.pem"
MAX_BYTES = 64 * 1024  # a chain of a few certificates is a few kB


class Refused(ValueError):
    """Why an upload is not a CA certificate we can use."""


def check(pem: bytes, now: datetime.datetime | None = None) -> list[x509.Certificate]:
    """The certificates of an upload; Refused with the reason when it is none we can trust."""
    if len(pem) > MAX_BYTES:
        raise Refused("a certificate file is at most %d bytes" % MAX_BYTES)
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise Refused("not a PEM certificate (-----BEGIN CERTIFICATE----- missing)")
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as e:
        raise Refused("not a valid PEM certificate: %s" % e) from None
    at = now or datetime.datetime.now(datetime.UTC)
    for cert in certs:
        name = cert.subject.rfc4514_string() or "(no subject)"
        try:
            ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            ca = False
        if not ca:
            raise Refused("%s is not a CA certificate (BasicConstraints CA:TRUE missing)" % name)
        if cert.not_valid_after_utc < at:
            raise Refused("%s expired on %s" % (name, cert.not_valid_after_utc.date()))
        if cert.not_valid_before_utc > at:
            raise Refused("%s is not valid before %s" % (name, cert.not_valid_before_utc.date()))
    try:
        ssl.create_default_context(cadata=pem.decode("ascii"))  # what the connection will load
    except (ssl.SSLError, UnicodeDecodeError) as e:
        raise Refused("TLS cannot use it: %s" % e) from None
    return certs


def save(data_dir: Path, pem: bytes) -> dict[str, Any]:
    """Checked, then replaces the kept certificate whole (a crash leaves the old one or the new one)."""
    certs = check(pem)
    path = data_dir / FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    os.replace(tmp, path)
    return describe(certs)


def delete(data_dir: Path) -> bool:
    path = data_dir / FILE
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def info(data_dir: Path) -> dict[str, Any] | None:
    """What the WBM page shows of the kept certificate; None without one."""
    path = data_dir / FILE
    if not path.exists():
        return None
    return describe(x509.load_pem_x509_certificates(path.read_bytes()))


def describe(certs: list[x509.Certificate]) -> dict[str, Any]:
    first = certs[0]
    return {
        "subject": first.subject.rfc4514_string(),
        "not_after": first.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": hashlib.sha256(first.public_bytes(serialization.Encoding.DER)).hexdigest(),
        "count": len(certs),
    }


def context(data_dir: Path | None, url: str) -> ssl.SSLContext | None:
    """The TLS context of a backend URL: None for ws://; for wss:// the kept CA's, else the system's."""
    if not url.startswith("wss://"):
        return None
    path = data_dir / FILE if data_dir is not None else None
    return ssl.create_default_context(cafile=str(path) if path is not None and path.exists() else None)

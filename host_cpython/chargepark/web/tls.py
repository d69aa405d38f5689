"""The WBM's HTTPS certificate: self-signed, made once at first start (`cryptography`), kept under the
data directory as one PEM file (the key, then the certificate and its chain) so that replacing it is one
atomic rename. An upload (certificate + key) is checked whole before it replaces the kept one: PEM, the key
unencrypted and matching the certificate, every certificate valid now, and loadable by TLS as the server
will load it; the HTTPS server uses it from its next start."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import socket
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DIR = "tls"  # under the data directory
FILE = "wbm.pem"
VALID_DAYS = 10 * 365
MAX_BYTES = 64 * 1024  # a key and a chain of a few certificates are a few kB
_PUBLIC = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class Refused(ValueError):
    """Why an upload is not a certificate and key the HTTPS server can use; `field` names the part."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def ensure(directory: Path) -> tuple[str, str]:
    """The certificate and key files (one file holds both), made when absent."""
    path = directory / FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        _write(path, *_self_signed())
    return str(path), str(path)


def _self_signed() -> tuple[bytes, bytes]:
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, socket.gethostname() or "chargepark")])
    now = datetime.datetime.now(datetime.UTC)
    alt = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.DNSName(socket.gethostname() or "chargepark"),
         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )  # fmt: skip
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(alt, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    key = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, key: bytes, certificates: bytes) -> None:
    """Key and certificates into `path` at once: a crash leaves the old file or the new one."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key + certificates)
        f.flush()
        os.fsync(f.fileno())
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(tmp))  # as the HTTPS server will
    except ssl.SSLError as e:
        tmp.unlink()
        raise Refused("certificate", "TLS cannot use it: %s" % e) from None
    os.replace(tmp, path)


def check(certificate: bytes, key: bytes, now: datetime.datetime | None = None) -> tuple[bytes, bytes]:
    """The upload as the kept file's parts (key PEM, certificates PEM); Refused with the reason."""
    for field, pem in (("certificate", certificate), ("key", key)):
        if len(pem) > MAX_BYTES:
            raise Refused(field, "a %s file is at most %d bytes" % (field, MAX_BYTES))
    if b"-----BEGIN CERTIFICATE-----" not in certificate:
        raise Refused("certificate", "not a PEM certificate (-----BEGIN CERTIFICATE----- missing)")
    if b"-----BEGIN " not in key or b"PRIVATE KEY-----" not in key:
        raise Refused("key", "not a PEM private key (-----BEGIN PRIVATE KEY----- missing)")
    try:
        certs = x509.load_pem_x509_certificates(certificate)
    except ValueError as e:
        raise Refused("certificate", "not a valid PEM certificate: %s" % e) from None
    try:
        private = serialization.load_pem_private_key(key, password=None)
    except TypeError:
        raise Refused("key", "the key is protected by a password: upload it unencrypted") from None
    except (ValueError, UnsupportedAlgorithm) as e:
        raise Refused("key", "not a valid PEM private key: %s" % e) from None
    if private.public_key().public_bytes(*_PUBLIC) != certs[0].public_key().public_bytes(*_PUBLIC):
        raise Refused("key", "the key does not belong to the certificate")
    at = now or datetime.datetime.now(datetime.UTC)
    for cert in certs:
        name = cert.subject.rfc4514_string() or "(no subject)"
        if cert.not_valid_after_utc < at:
            raise Refused("certificate", "%s expired on %s" % (name, cert.not_valid_after_utc.date()))
        if cert.not_valid_before_utc > at:
            raise Refused(
                "certificate", "%s is not valid before %s" % (name, cert.not_valid_before_utc.date())
            )
    unencrypted = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return unencrypted, b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def install(directory: Path, certificate: bytes, key: bytes) -> dict[str, Any]:
    """Checked whole, then replaces the kept certificate and key; what `info` shows of it."""
    parts = check(certificate, key)
    directory.mkdir(parents=True, exist_ok=True)
    _write(directory / FILE, *parts)
    return info(directory)


def fingerprint(path: Path) -> str:
    """SHA-256 of the file's first certificate (the server's own)."""
    return str(_describe(x509.load_pem_x509_certificates(path.read_bytes())[0])["sha256"])


def info(directory: Path) -> dict[str, Any]:
    """What the WBM page shows of the kept certificate (made when absent)."""
    path = Path(ensure(directory)[0])
    certs = x509.load_pem_x509_certificates(path.read_bytes())
    return dict(_describe(certs[0]), chain=len(certs))


def _describe(cert: x509.Certificate) -> dict[str, Any]:
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "self_signed": cert.issuer == cert.subject,
        "not_before": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
    }

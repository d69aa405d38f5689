"""The WBM's HTTPS certificate: made at first start, replaced by an upload of certificate and key that is
checked whole (PEM, the key unencrypted and matching, valid now) and refused whole with its reason and the
part it names, the kept file untouched; over the WBM API, Operator and Manufacturer only."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import httpx
import pytest
from chargepark.wbm.app import create_app
from chargepark.web import tls
from cryptography.hazmat.primitives.asymmetric import ec

from tests.host.certkit import DAY, NOW, key_pem, server_cert
from tests.host.wbmkit import change_factory_password, make_ctx, served

PEM, KEY = server_cert()
EXPIRED, EXPIRED_KEY = server_cert(start=NOW - 400 * DAY)
EARLY, EARLY_KEY = server_cert(start=NOW + 2 * DAY)
BROKEN = b"-----BEGIN %s-----\nAAAA\n-----END %s-----\n"


def test_first_start_makes_a_self_signed_certificate_tls_loads(tmp_path: Path) -> None:
    cert, key = tls.ensure(tmp_path / tls.DIR)
    assert cert == key and stat.S_IMODE(Path(cert).stat().st_mode) == 0o600
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert)
    shown = tls.info(tmp_path / tls.DIR)
    assert shown["self_signed"] and shown["chain"] == 1
    assert tls.ensure(tmp_path / tls.DIR) == (cert, key) and tls.info(tmp_path / tls.DIR) == shown  # kept


@pytest.mark.parametrize(
    "certificate, key, field, reason",
    [
        (b"garbage", key_pem(KEY), "certificate", "not a PEM certificate"),
        (PEM, b"garbage", "key", "not a PEM private key"),
        (PEM, key_pem(ec.generate_private_key(ec.SECP256R1())), "key", "the key does not belong to the certificate"),
        (PEM, key_pem(KEY, b"secret"), "key", "the key is protected by a password"),
        (EXPIRED, key_pem(EXPIRED_KEY), "certificate", "expired on"),
        (EARLY, key_pem(EARLY_KEY), "certificate", "is not valid before"),
        (BROKEN % (b"CERTIFICATE", b"CERTIFICATE"), key_pem(KEY), "certificate", "not a valid PEM certificate"),
        (PEM, BROKEN % (b"PRIVATE KEY", b"PRIVATE KEY"), "key", "not a valid PEM private key"),
        (PEM + b"#" * tls.MAX_BYTES, key_pem(KEY), "certificate", "at most"),
    ],
)  # fmt: skip
def test_a_bad_upload_is_refused_whole_with_its_reason(
    tmp_path: Path, certificate: bytes, key: bytes, field: str, reason: str
) -> None:
    directory = tmp_path / tls.DIR
    before = Path(tls.ensure(directory)[0]).read_bytes()
    with pytest.raises(tls.Refused) as refused:
        tls.install(directory, certificate, key)
    assert refused.value.field == field and reason in str(refused.value)
    assert (directory / tls.FILE).read_bytes() == before and list(directory.iterdir()) == [
        directory / tls.FILE
    ]


def test_an_upload_replaces_the_certificate_tls_then_presents(tmp_path: Path) -> None:
    directory = tmp_path / tls.DIR
    tls.ensure(directory)
    kept = tls.install(directory, PEM, key_pem(KEY))
    assert kept["subject"] == "CN=wbm.example" and kept["issuer"] == "CN=Test CA" and kept["chain"] == 2
    assert not kept["self_signed"] and tls.info(directory) == kept
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(directory / tls.FILE))
    assert tls.fingerprint(directory / tls.FILE) == kept["sha256"]


def test_the_upload_over_the_api_by_role(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    body = {"certificate": PEM.decode(), "key": key_pem(KEY).decode()}
    with served(create_app(ctx)) as base:
        clients = {}
        for login in ("user", "operator"):
            clients[login] = httpx.Client(base_url=base, timeout=60)
            change_factory_password(clients[login], login)
        with httpx.Client(base_url=base, timeout=30) as guest:
            assert guest.get("/api/wbm/certificate").status_code == 401
        assert clients["user"].get("/api/wbm/certificate").status_code == 403
        assert clients["user"].put("/api/wbm/certificate", json=body).status_code == 403
        operator = clients["operator"]
        first = operator.get("/api/wbm/certificate").json()
        assert first["self_signed"] and first["https"] is False and first["served"] is False
        wrong = operator.put("/api/wbm/certificate", json=dict(body, key=key_pem(EXPIRED_KEY).decode()))
        assert wrong.status_code == 422
        assert wrong.json()["field"] == "key" and "does not belong" in wrong.json()["error"]
        assert operator.get("/api/wbm/certificate").json() == first  # refused whole: nothing changed
        r = operator.put("/api/wbm/certificate", json=body)
        assert r.status_code == 200 and r.json()["subject"] == "CN=wbm.example"
        assert operator.get("/api/wbm/certificate").json() == r.json()
        for c in clients.values():
            c.close()

"""`wss://` with an uploaded CA certificate (manual "Upload Certificate" / "Delete Certificate", security
profile 2: Basic authentication over TLS): the certificate is checked before it is kept, refused with the
reason; the backend connection trusts it. Against the `ocpp` package's Central System served with TLS by a
throwaway CA made here; an unrelated CA is refused by the handshake and the OCPP page says why. The upload,
refusal and delete go through the WBM page's form and the WBM API on a real server."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from chargepark.ocpp import cacert
from chargepark.services.web_server import pages
from chargepark.wbm.app import create_app
from chargepark.web import i18n
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.host.ocppkit import CentralSystem
from tests.host.test_ocpp_backend import Rig, run, running
from tests.host.wbmkit import change_factory_password, log_in, make_ctx, served

NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


def _cert(name: str, key: Any, issuer: x509.Name, issuer_key: Any, ca: bool,
          before: datetime.datetime = NOW - DAY, after: datetime.datetime = NOW + 30 * DAY) -> x509.Certificate:  # fmt: skip
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(before)
        .not_valid_after(after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        b = b.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
    return b.sign(issuer_key, hashes.SHA256())


class Ca:
    """A throwaway CA; `server_context` a TLS server context with a certificate for 127.0.0.1 it signed."""

    def __init__(self, name: str, **validity: datetime.datetime) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = _cert(name, self.key, self.name, self.key, True, **validity)
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def server_context(self, tmp: Path) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _cert("127.0.0.1", key, self.name, self.key, False)
        (tmp / "server.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        (tmp / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tmp / "server.pem", tmp / "server.key")
        return ctx


def _operator(base: str) -> dict[str, Any]:
    """An Operator's session (the ocpp area's writer): the cookies and the CSRF header of a client."""
    with httpx.Client(base_url=base, timeout=20) as c:
        change_factory_password(c, "operator")
        log_in(c, "operator")
        return {"cookies": dict(c.cookies), "headers": dict(c.headers)}


def test_an_upload_that_is_no_usable_ca_certificate_is_refused_with_the_reason(tmp_path: Path) -> None:
    good = Ca("Backend Root")
    leaf = _cert("leaf", good.key, good.name, good.key, False).public_bytes(serialization.Encoding.PEM)
    cases = [
        (b"hello", "not a PEM certificate"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a valid PEM certificate"),
        (leaf, "CN=leaf is not a CA certificate"),
        (Ca("Old Root", before=NOW - 60 * DAY, after=NOW - DAY).pem, "CN=Old Root expired on"),
        (Ca("Future Root", before=NOW + DAY, after=NOW + 9 * DAY).pem, "CN=Future Root is not valid before"),
        (good.pem * 500, "a certificate file is at most"),
    ]
    for pem, reason in cases:
        with pytest.raises(cacert.Refused, match="^" + reason):
            cacert.save(tmp_path, pem)
        assert cacert.info(tmp_path) is None  # nothing kept
    chain = good.pem + Ca("Second Root").pem
    assert cacert.save(tmp_path, chain)["count"] == 2
    assert cacert.info(tmp_path)["subject"] == "CN=Backend Root"  # type: ignore[index]
    assert cacert.context(tmp_path, "ws://h/x") is None
    assert cacert.context(tmp_path, "wss://h/x") is not None
    assert cacert.delete(tmp_path) and not cacert.delete(tmp_path)


def test_wss_with_the_uploaded_ca_basic_auth_over_tls_and_a_wrong_ca_reported(tmp_path: Path) -> None:
    right, wrong = Ca("Backend Root"), Ca("Somebody Else")
    cs = CentralSystem(user="CB0001", key="s3cret", tls=right.server_context(tmp_path))
    cs.start()
    app = create_app(make_ctx(tmp_path))
    pages.install(app)

    async def scenario(base: str) -> None:
        r = Rig(tmp_path, cs, {"AuthorizationUser": "CB0001", "AuthorizationKey": "s3cret"})
        r.backend.ca_dir = tmp_path  # the WBM's data directory: where the page keeps the certificate
        wbm = httpx.AsyncClient(base_url=base, timeout=20, **operator)
        htmx = {"hx-request": "true"}

        async def save(pem: bytes, lang: str = "en") -> httpx.Response:
            wbm.cookies.set(i18n.COOKIE, lang)
            return await wbm.post("/wbm/ocpp", headers=htmx, data={"HeartbeatInterval": "300"},
                                  files={"certificate": ("ca.pem", pem, "application/x-pem-file")})  # fmt: skip

        async def status() -> dict[str, Any]:
            got: dict[str, Any] = (await wbm.get("/api/wbm/ocpp")).json()
            return got

        page = (await wbm.get("/wbm/ocpp")).text
        assert 'id="ocpp-certificate"' in page and 'id="ocpp-cert-none"' in page  # wss://: the buttons show
        assert (await save(wrong.pem)).headers["hx-redirect"] == "/wbm/ocpp?saved=1"
        async with running(r):
            # the unrelated CA: the handshake fails, the page says why and stays red
            deadline = asyncio.get_running_loop().time() + 30
            while True:
                got = (await status())["link"]
                if got and not got["online"] and "CERTIFICATE_VERIFY_FAILED" in (got.get("error") or ""):
                    break
                assert asyncio.get_running_loop().time() < deadline, got
                await asyncio.sleep(0.2)
            assert not cs.actions() and not cs.auth  # no request got past TLS
            page = (await wbm.get("/wbm/ocpp")).text
            assert 'class="offline"' in page and "CERTIFICATE_VERIFY_FAILED" in page
            assert "CN=Somebody Else" in page
            # the backend's own CA: connected over TLS with Basic authentication (security profile 2)
            assert (await save(right.pem)).status_code == 200
            await r.until("BootNotification over wss", lambda: cs.actions("BootNotification"), 60)
            assert cs.auth[-1].startswith("Basic ") and cs.paths[-1] == "/ocpp/CB0001"
            assert "CN=Backend Root" in (await wbm.get("/wbm/ocpp")).text
            # a refused upload names why (in German too) and keeps the certificate there was
            refused = await save(b"nonsense", "de")
            assert "kein PEM-Zertifikat" in refused.text
            assert (await status())["certificate"]["subject"] == "CN=Backend Root"
        # Delete Certificate: gone; the API says there is none to delete
        assert (await wbm.post("/wbm/ocpp/certificate/delete", headers=htmx)).headers[
            "hx-redirect"
        ] == "/wbm/ocpp"
        assert (await status())["certificate"] is None
        assert (await wbm.delete("/api/wbm/ocpp/certificate")).status_code == 404
        assert (await wbm.put("/api/wbm/ocpp/certificate", content=b"x")).status_code == 422
        assert (await wbm.put("/api/wbm/ocpp/certificate", content=right.pem * 200)).status_code == 413
        await wbm.aclose()

    try:
        with served(app) as base:
            operator = _operator(base)
            run(scenario(base))
    finally:
        cs.close()

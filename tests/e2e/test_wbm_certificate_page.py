"""System Control/HTTPS Certificate in a real browser against `chargepark run --sim 2`: only Operator and
Manufacturer see it; a key that does not belong to the certificate is refused beside its file and nothing
changes; a certificate of a CA of its own is uploaded, the Web Server restarted from the page, and the
HTTPS server presents it (a client trusting that CA connects); screenshots in both languages."""

from __future__ import annotations

import hashlib
import socket
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e import test_wbm_pages
from tests.e2e.test_head_sim import until
from tests.e2e.test_wbm_pages import HTTPS_PORT, SHOTS, Tab
from tests.host.certkit import key_pem, server_cert

pytestmark = pytest.mark.slow
# the fixtures: this module's own head (the Web Server restarts), the browser, the changed passwords
head, browser, passwords = test_wbm_pages.head, test_wbm_pages.browser, test_wbm_pages.passwords


def presented(port: int) -> str:
    """SHA-256 of the certificate the HTTPS server on `port` presents now."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return hashlib.sha256(der).hexdigest()


def test_only_operator_and_manufacturer_see_the_certificate_page(
    head: str,
    browser: Any,
    passwords: dict[str, str],
) -> None:
    for login, sees in (("user", False), ("operator", True), ("manufacturer", True)):
        tab = Tab(browser, head)
        tab.log_in(login, passwords[login])
        tab.page.wait_for_url("**/wbm/")
        assert (tab.page.locator("nav a[href='/wbm/certificate']").count() == 1) == sees, login
        pg = tab.go("/wbm/certificate")
        assert (pg.locator("#cert-upload").count() == 1) == sees, login
        tab.close()


def test_upload_a_certificate_and_restart_the_web_server(
    head: str,
    browser: Any,
    passwords: dict[str, str],
    tmp_path: Path,
) -> None:
    chain, key = server_cert(cn="wbm.test")
    (tmp_path / "cert.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key_pem(key))
    (tmp_path / "other.pem").write_bytes(key_pem(ec.generate_private_key(ec.SECP256R1())))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(chain[chain.index(b"-----BEGIN CERTIFICATE-----", 1) :])  # the chain's second: the CA
    wanted = hashlib.sha256(
        x509.load_pem_x509_certificate(chain).public_bytes(serialization.Encoding.DER)
    ).hexdigest()
    first = presented(HTTPS_PORT)
    tab = Tab(browser, head)
    tab.log_in("operator", passwords["operator"])
    tab.page.wait_for_url("**/wbm/")
    pg = tab.go("/wbm/certificate")
    assert pg.locator("#cert-sha256").inner_text() == first  # the page shows what the server presents
    assert pg.locator("#cert-served").inner_text() == "presents this certificate"
    pg.set_input_files("#cert-file", str(tmp_path / "cert.pem"))
    pg.set_input_files("#key-file", str(tmp_path / "other.pem"))
    pg.click("#upload-cert")
    pg.locator("#error-key:not(:empty)").wait_for()
    assert pg.locator("#error-key").inner_text() == "the key does not belong to the certificate"
    assert presented(HTTPS_PORT) == first and pg.locator("#cert-sha256").inner_text() == first  # unchanged
    pg.set_input_files("#key-file", str(tmp_path / "key.pem"))
    pg.click("#upload-cert")
    pg.wait_for_url("**/wbm/certificate?kept=1")
    assert (
        pg.locator("#cert-sha256").inner_text() == wanted
        and pg.locator("#cert-issuer").inner_text() == "CN=Test CA"
    )
    assert pg.locator("#cert-served").inner_text() == "presents it after the restart of the Web Server"
    pg.screenshot(path=str(SHOTS / "system-certificate-en.png"), full_page=True)
    pg.once("dialog", lambda d: d.accept())
    pg.click("#restart-for-cert")
    until("the HTTPS server presents the uploaded certificate", lambda: _presents(wanted), 120)
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=10) as trusting:
        assert trusting.get("https://127.0.0.1:%d/wbm/login" % HTTPS_PORT).status_code == 200
    pg = tab.go("/wbm/lang/de?next=/wbm/certificate")
    assert pg.locator("#cert-served").inner_text() == "verwendet dieses Zertifikat"
    pg.screenshot(path=str(SHOTS / "system-certificate-de.png"), full_page=True)
    tab.go("/wbm/lang/en?next=/wbm/certificate")
    tab.close()


def _presents(sha256: str) -> bool:
    try:
        return presented(HTTPS_PORT) == sha256
    except OSError:  # the Web Server is restarting
        return False

"""WBM page System Control/HTTPS Certificate: the certificate the WBM's HTTPS server presents (subject,
issuer, validity, fingerprint, whether the running server presents it), the upload of a certificate with
its key (refused whole with the API's reason beside the file), and the Web Server's restart that puts it
to use. Operator and Manufacturer only (the role matrix's certificate operations)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from chargepark.services.web_server.pagekit import Nav, htmx_only, page, refused, to_login
from chargepark.services.web_server.spec import SPEC

router = APIRouter()
NAV: Nav = (("/wbm/certificate", "System Control/HTTPS Certificate", "certificate_status"),)


@router.get("/certificate", response_class=HTMLResponse)
async def certificate(request: Request) -> Response:
    p = await page(request)
    kept = await p.api.get("/api/wbm/certificate")
    if kept is None:
        return to_login(request)
    return p.render("certificate.html", cert=kept, service=SPEC.name, kept="kept" in request.query_params)


@router.post("/certificate", response_class=HTMLResponse)
async def certificate_upload(request: Request) -> Response:
    p = await page(request)
    if not htmx_only(request):
        return Response(status_code=403)
    form = await request.form()
    parts: dict[str, str] = {}
    for name in ("certificate", "key"):
        upload = form.get(name)
        data = await upload.read() if isinstance(upload, UploadFile) else b""
        parts[name] = data.decode("utf-8", "replace")  # not UTF-8: no PEM, the API says so
    r = await p.api.call("PUT", "/api/wbm/certificate", parts)
    if r.status_code == 422:  # the reason beside the file it names, and as the result
        body = r.json()
        return p.render(
            "_result.html", ok=False, text=p.message(body["error"]), fields={body["field"]: body["error"]}
        )
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/certificate?kept=1"})

"""WBM API of System Control/HTTPS Certificate: the certificate the WBM's HTTPS server presents (the one
made at first start or an uploaded one, `chargepark.web.tls`) and the upload of a certificate with its
key, checked whole before it replaces the kept one. The HTTPS server loads it when it starts: the answer
says whether the running server presents the kept certificate or the Web Server's restart is due."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from chargepark.asgi import ApiError
from chargepark.wbm.context import WbmContext, of
from chargepark.web import tls

router = APIRouter(prefix="/api/wbm/certificate", tags=["system"])
Ctx = Annotated[WbmContext, Depends(of)]
SERVED = "https_sha256"  # app state: the fingerprint of the certificate the running HTTPS server presents


class Upload(BaseModel):
    certificate: str = Field(
        max_length=tls.MAX_BYTES, description="PEM: the server's certificate, then its chain"
    )
    key: str = Field(max_length=tls.MAX_BYTES, description="PEM: its private key, unencrypted")


def _shown(request: Request, kept: dict[str, Any]) -> dict[str, Any]:
    served = getattr(request.app.state, SERVED, None)
    return dict(kept, served=served is not None and served == kept["sha256"], https=served is not None)


@router.get("", operation_id="certificate_status",
            summary="The HTTPS certificate kept and whether the running HTTPS server presents it")  # fmt: skip
async def certificate_status(request: Request, ctx: Ctx) -> dict[str, Any]:
    return _shown(request, await asyncio.to_thread(tls.info, ctx.data_dir / tls.DIR))


@router.put("", operation_id="certificate_upload",
            summary="Replace the HTTPS certificate: certificate and key (PEM), checked whole; used from the "
                    "Web Server's next start")  # fmt: skip
async def certificate_upload(body: Upload, request: Request, ctx: Ctx) -> dict[str, Any]:
    try:
        kept = await asyncio.to_thread(
            tls.install, ctx.data_dir / tls.DIR, body.certificate.encode(), body.key.encode()
        )
    except tls.Refused as e:
        raise ApiError(422, str(e), e.field) from None
    return _shown(request, kept)

"""System Control/Calibration Law (manual): the overview of the settings that matter for calibration law,
per charging point and for OCPP, as the Calibration Law Agent judges them (services/calibration_law/
checks.py: "error" is not compliant, shown red; "warning" yellow), and "SWITCH ON CALIBRATION LAW": the
system area's `calibration_law` on, then every service restarts and the agent starts with them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from chargepark.services.calibration_law import checks
from chargepark.wbm.context import WbmContext, of
from chargepark.wbm.system import _after_the_answer

router = APIRouter(prefix="/api/wbm", tags=["system"])
Ctx = Annotated[WbmContext, Depends(of)]


@router.get("/calibration-law", operation_id="calibration_law_status",
            summary="Calibration law: on or off, and each relevant setting judged (ok, warning, error)")  # fmt: skip
async def calibration_law_status(ctx: Ctx) -> dict[str, Any]:
    report = checks.report(ctx.store)
    return {
        "on": bool(ctx.store.get("system")["calibration_law"]),
        "compliant": checks.compliant(report),
        "checks": [c.as_dict() for c in report],
    }


@router.post("/calibration-law/switch-on", operation_id="calibration_law_on",
             summary="Switch on calibration law: stored, then every service restarts (answered first) and the "
                     "Calibration Law Agent starts")  # fmt: skip
async def calibration_law_on(ctx: Ctx) -> dict[str, Any]:
    ctx.store.put("system", {"calibration_law": True})
    _after_the_answer(ctx, {"cmd": "restart", "name": "all"})  # this web server is among them
    return {"on": True, "rebooting": True}

"""The manual's Table 5-4 ("Charging Stations | Charge Point | Status (Operation)"): one row per operation,
each the point command it sends through `pointops` (acknowledged once the module confirmed it, 504 with
the reason when it is offline). Who may run each is the role matrix's business."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm/points/{uid}", tags=["operations"])
Ctx = Annotated[WbmContext, Depends(of)]


@dataclass(frozen=True)
class Operation:
    op_id: str
    path: str
    command: str  # the point command (docs/point-api.md)
    manual: str  # the button in Table 5-4
    switch: bool  # takes {"on": bool}; else no body


OPERATIONS: tuple[Operation, ...] = (
    Operation("point_enable", "/enabled", "enable", "Disable or Enable Charge Point", True),
    Operation("point_release", "/charging-allowed", "release", "Allow or Prohibit Charging", True),
    Operation(
        "point_enforce_unlock", "/enforce-unlock", "enforce_unlock", "Enforce or Revert Unlocking", True
    ),
    Operation("point_reset_error", "/reset-error", "reset_error", "Reset a latched error", False),
)


class Switch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    on: bool


def _route(op: Operation) -> None:
    if op.switch:

        async def switch(uid: str, body: Switch, ctx: Ctx) -> dict[str, Any]:
            await ctx.commands.command(uid, op.command, body.on)
            return {"uid": uid, "operation": op.command, "on": body.on, "confirmed": True}

        router.add_api_route(op.path, switch, methods=["PUT"], operation_id=op.op_id, summary=op.manual)
    else:

        async def once(uid: str, ctx: Ctx) -> dict[str, Any]:
            await ctx.commands.command(uid, op.command, None)
            return {"uid": uid, "operation": op.command, "confirmed": True}

        router.add_api_route(op.path, once, methods=["POST"], operation_id=op.op_id, summary=op.manual)


for _op in OPERATIONS:
    _route(_op)

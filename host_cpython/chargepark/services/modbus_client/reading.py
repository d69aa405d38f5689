"""The message of a load circuit's higher-level meter reading (topics.MODBUS_CLIENT_METER), one shape for
both paths: the Modbus Client service's Modbus/TCP meters and the RS-485 meter an IO module reads on its
meter line (published by the controller agent). Load management reads either the same way."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

# the reading's fields in the point's live-state names (chargedefs.LIVE_FIELDS), by meter slot
FIELDS = ("u1_mv", "u2_mv", "u3_mv", "i1_ma", "i2_ma", "i3_ma", "power_mw", "energy_wh",
          "power_factor_pm", "frequency_mhz")  # fmt: skip


def message(circuit: str, meter_type: str, values: Sequence[int] | None) -> dict[str, Any]:
    """`values` in meter slots (iomodule.meters), None while the meter does not answer (offline)."""
    msg: dict[str, Any] = {"circuit": circuit, "type": meter_type, "online": values is not None}
    if values is not None:
        msg.update(zip(FIELDS, values, strict=True))
    msg["t"] = round(time.time(), 3)
    return msg

"""The pymodbus datastore of the map: one `SimDevice` per answered unit id, its address space declared
from the register tables, its `action` serving reads from the park's image and handing writes to `Control`.

pymodbus checks that every addressed register is declared (else exception 02) and then calls the action;
the action refuses addresses of blocks no point holds now (02), answers FC03 and FC04 alike, hands FC06 and
FC16 to `Control`, and refuses every other function code reaching the registers (01). Unit ids other than
`UNITS` reach a catch-all device answering 0B (gateway target failed to respond).
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from chargepark.modbus.control import Control
from chargepark.modbus.registers import BLOCK_STEP, GROUP, POINT, START_FIRST, START_LAST
from chargepark.modbus.view import ParkView

UNITS = (1, 255)  # CHARX answers 1; evcc's template asks 255
READS = (3, 4)
WRITES = (6, 16)
CLIENT: contextvars.ContextVar[str] = contextvars.ContextVar("modbus_client", default="")


def declared() -> list[SimData]:
    """Every register any point could hold: the group rows and each row at every possible start."""
    rows = [(r.at, r.size) for r in GROUP]
    for start in range(START_FIRST, START_LAST + 1, BLOCK_STEP):
        rows += [(start + r.at, r.size) for r in POINT]
    return [SimData(at, count=size, datatype=DataType.REGISTERS) for at, size in rows]


class MapStore:
    def __init__(self, view: ParkView, control: Control) -> None:
        self.view = view
        self.control = control

    async def action(
        self,
        func_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: Sequence[int] | Sequence[bool] | None,
    ) -> ExcCodes | None:
        if func_code in READS:
            words = self.view.words(address, count)
            if words is None:
                return ExcCodes.ILLEGAL_ADDRESS
            offset = address - start_address
            registers[offset : offset + count] = words
            return None
        if func_code in WRITES:
            if set_values is None:  # FC06 reads back what it just wrote
                return None
            return await self.control.write(CLIENT.get(), address, [int(v) for v in set_values])
        return ExcCodes.ILLEGAL_FUNCTION

    def devices(self) -> list[SimDevice]:
        return [SimDevice(unit, simdata=declared(), action=self.action) for unit in UNITS] + [
            SimDevice(0, simdata=[SimData(0, count=65536, datatype=DataType.REGISTERS)], action=_other_unit)
        ]


async def _other_unit(
    func_code: int,
    start_address: int,
    address: int,
    count: int,
    registers: list[int],
    set_values: Sequence[int] | Sequence[bool] | None,
) -> ExcCodes | None:
    return ExcCodes.GATEWAY_NO_RESPONSE

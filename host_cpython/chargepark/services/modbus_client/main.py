"""Modbus Client service: reads each load circuit's higher-level meter over Modbus/TCP (the loadcircuit
area's `meter_connection` "tcp", `meter_ip`, `meter_type`, `meter_modbus_id`) with the register map of
`iomodule.meters.HIGHER_LEVEL`, and publishes every reading for the data hub and load management
(topics.MODBUS_CLIENT_METER). A meter that does not answer is published as offline, never raised."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from iomodule import meters
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.runtime import Runtime
from chargepark.services.base import connect, follow_config, run_service
from chargepark.services.modbus_client.reading import message
from chargepark.services.modbus_client.spec import SPEC

PERIOD_S = 1.0
TIMEOUT_S = 0.5
# Modbus/TCP port of the meters: 502 on a real installation; the simulated park's meter sets its own
PORT = int(os.environ.get("CHARGEPARK_METER_PORT", "502"))


@dataclass(frozen=True)
class Target:
    circuit: str
    host: str
    meter_type: str
    unit: int


def targets(store: ConfigStore) -> list[Target]:
    """The load circuits whose higher-level meter is on Modbus/TCP."""
    out = []
    for cid in store.keys("loadcircuit"):
        c = store.get("loadcircuit", cid)
        if c["meter_connection"] == "tcp" and c["meter_ip"]:
            out.append(Target(cid, c["meter_ip"], c["meter_type"], c["meter_modbus_id"]))
    return out


class _Words:
    """One answer's registers as `word(i)` for meters.scaled."""

    def __init__(self, registers: Sequence[int]) -> None:
        self.registers = registers

    def word(self, i: int) -> int:
        return self.registers[i]


async def read_meter(client: AsyncModbusTcpClient, target: Target) -> list[int]:
    """One reading in the point's units; raises ModbusException or ValueError when the meter fails."""
    mp = meters.HIGHER_LEVEL[target.meter_type]
    values = [0] * meters.SLOTS
    read = client.read_input_registers if mp["function"] == 4 else client.read_holding_registers
    for (start, count), fields in zip(mp["blocks"], meters.resolve(mp), strict=True):
        answer = await read(start, count=count, device_id=target.unit)
        if answer.isError() or len(answer.registers) != count:
            raise ModbusException("meter answered %s" % answer)
        words = _Words(answer.registers)
        for slot, offset, typ, order, mul, div in fields:
            values[slot] = meters.scaled(words, offset, typ, order, mul, div)
    return values


class MeterPoller:
    """Polls one meter; keeps its TCP connection between reads and reconnects after a failure."""

    def __init__(self, target: Target, port: int = PORT) -> None:
        self.target = target
        self.client = AsyncModbusTcpClient(target.host, port=port, timeout=TIMEOUT_S, retries=0)
        self.failures = 0

    async def poll(self) -> dict[str, Any]:
        try:
            if not self.client.connected:
                await self.client.connect()
            values: list[int] | None = await read_meter(self.client, self.target)
        except (TimeoutError, ModbusException, ValueError, OSError) as e:
            self.failures += 1
            if self.failures == 1:
                logging.warning("meter of load circuit %s (%s): %s", self.target.circuit, self.target.host, e)
            self.client.close()
            values = None
        else:
            self.failures = 0
        return message(self.target.circuit, self.target.meter_type, values)

    def close(self) -> None:
        self.client.close()


async def serve(runtime: Runtime) -> None:
    link = await connect(runtime, SPEC)
    store = ConfigStore.open(runtime.config_path)
    pollers: dict[Target, MeterPoller] = {}
    changed = asyncio.Event()
    changed.set()
    await follow_config(link, store, ("loadcircuit",), lambda _area: changed.set())
    try:
        while True:
            if changed.is_set():
                changed.clear()
                wanted = set(targets(store))
                for gone in set(pollers) - wanted:
                    pollers.pop(gone).close()
                for new in wanted - set(pollers):
                    pollers[new] = MeterPoller(new)
            for poller in list(pollers.values()):
                msg = await poller.poll()
                link.publish(topics.fill(topics.MODBUS_CLIENT_METER, circuit=msg["circuit"]), json.dumps(msg))
            await asyncio.sleep(PERIOD_S)
    finally:
        for poller in pollers.values():
            poller.close()
        store.close()
        await link.close()


def main() -> int:
    return run_service(SPEC, serve)

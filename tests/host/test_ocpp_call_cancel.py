"""A ChargeBox call ends on its task's cancel, also when the answer arrives in the same moment: the ocpp
package waits for answers with asyncio.wait_for, which on Python 3.11 returns the answer then and drops
the cancel (CPython gh-86296); the OCPP sender once outlived its service's stop that way in CI."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from chargepark.ocpp.chargebox import ChargeBox
from ocpp.messages import unpack
from ocpp.v16 import call


class Wire:
    """The box's connection: each CALL sent is answered at once; after the first answer, the caller's task
    is cancelled `hops` loop iterations later."""

    def __init__(self, hops: int) -> None:
        self.hops = hops
        self.box: ChargeBox | None = None
        self.task: asyncio.Task[Any] | None = None
        self.cancels = True

    async def send(self, text: str) -> None:
        sent = unpack(text)
        answer = json.dumps([3, sent.unique_id, {"currentTime": "2026-12-02T08:00:00Z"}])
        loop = asyncio.get_running_loop()

        def answer_then_cancel(hops: int) -> None:
            if hops == self.hops:
                assert self.box is not None
                self.box._response_queue.put_nowait(unpack(answer))
            if hops == 0:
                assert self.task is not None
                self.task.cancel()
            else:
                loop.call_soon(answer_then_cancel, hops - 1)

        if self.cancels:
            self.cancels = False
            loop.call_soon(answer_then_cancel, self.hops)
        else:
            assert self.box is not None
            self.box._response_queue.put_nowait(unpack(answer))


def test_a_cancel_that_meets_the_answer_ends_the_call() -> None:
    async def one(hops: int) -> bool:
        wire = Wire(hops)
        station = SimpleNamespace(
            settings=lambda: {"HeartbeatInterval": 60}, journal=SimpleNamespace(frame=lambda *_: None)
        )
        box = ChargeBox("CB1", wire, station, None, None, None, None, None)  # type: ignore[arg-type]
        wire.box = box

        async def sender() -> None:
            while True:  # like the backend's loop: a swallowed cancel keeps it going
                await box.call(call.Heartbeat())
                await asyncio.sleep(0)

        wire.task = asyncio.ensure_future(sender())
        done, _ = await asyncio.wait({wire.task}, timeout=1)
        wire.task.cancel()  # a swallowed cancel: end it for the next round
        return wire.task in done and wire.task.cancelled()

    async def scenario() -> list[int]:
        return [hops for hops in range(12) if not await one(hops)]

    assert asyncio.run(scenario()) == []

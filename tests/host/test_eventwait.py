"""eventwait.within: a loop that waits for its event with a timeout ends when its task is cancelled, also
when the event is set in the same moment (asyncio.wait_for on Python 3.11 returns then and the loop runs on:
the OCPP sender once outlived its cancel that way in CI)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest
from chargepark.eventwait import within


def _cancel_while_set(wait: Callable[[asyncio.Event, float], Awaitable[None]]) -> bool:
    """True if the waiting loop ended on its cancel."""

    async def loop(event: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await wait(event, 10)
            event.clear()

    async def scenario() -> bool:
        event = asyncio.Event()
        task = asyncio.ensure_future(loop(event))
        await asyncio.sleep(0.01)  # it waits
        event.set()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1)
        task.cancel()  # a swallowed cancel: end it for the next test
        return task in done

    return asyncio.run(scenario())


def test_a_cancel_that_meets_the_event_ends_the_loop() -> None:
    assert _cancel_while_set(within)


def test_it_returns_when_set_and_raises_timeouterror_otherwise() -> None:
    async def scenario() -> None:
        event = asyncio.Event()
        with pytest.raises(TimeoutError):
            await within(event, 0.01)
        asyncio.get_running_loop().call_later(0.01, event.set)
        await within(event, 5)

    asyncio.run(scenario())

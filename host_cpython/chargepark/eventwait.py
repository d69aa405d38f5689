"""An asyncio.Event waited for with a timeout, raising TimeoutError as asyncio.wait_for does, but never
losing a cancellation: on Python 3.11 wait_for can swallow a cancel that arrives as its wait completes
(CPython gh-86296), and a loop waiting that way then outlives its task's cancel. asyncio.timeout does not."""

from __future__ import annotations

import asyncio


async def within(event: asyncio.Event, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        await event.wait()

"""A simulated module keeps only a bounded tail of its console, however long it runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from chargepark.bus.simmodule import OUTPUT_LINES, SimModule
from chargepark.procs import micropython_binary

CHATTY = "for i in range(%d): print('line', i)" % (OUTPUT_LINES * 20)


class ChattyModule(SimModule):
    """A real micropython process that prints far more lines than are kept, then exits."""

    def command(self) -> list[str]:
        return [micropython_binary(), "-c", CHATTY]


def test_console_output_keeps_a_bounded_tail(tmp_path: Path) -> None:
    async def scenario() -> SimModule:
        module = ChattyModule(tmp_path, "127.0.0.1:1")
        await module.start()
        try:
            async with asyncio.timeout(30):
                while len(module.exits) < 2:  # printed everything twice (restarted after the first exit)
                    await asyncio.sleep(0.02)
        finally:
            await module.stop()
        return module

    module = asyncio.run(scenario())
    assert len(module.output) == OUTPUT_LINES
    last = OUTPUT_LINES * 20 - 1
    assert module.output[-1] == b"line %d\n" % last
    assert module.output[0] == b"line %d\n" % (last - OUTPUT_LINES + 1)
    assert module.console_tail(len("line %d\n" % last)) == "line %d\n" % last
    assert module.console_tail(10**6).startswith("line %d\n" % (last - OUTPUT_LINES + 1))

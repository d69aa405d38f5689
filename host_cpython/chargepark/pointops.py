"""The one command path from a head service to a point: through the controller agent, acknowledged.

`PointOps.command(uid, name, value)` validates the command with the module's own table
(`iomodule.commands.COMMANDS`), publishes it on the agent's command topic with a fresh request id and
returns once the agent reports that the module applied it. Anything else is a `CommandError` whose
`http_status` is what a web route answers:

| error | when | status |
| --- | --- | --- |
| `InvalidCommand` | the module's table refuses name or value (nothing is sent) | 422 |
| `UnknownPoint` | no such charging controller on the bus | 404 |
| `PointRefused` | the module answered with an error | 409 |
| `PointOffline` | the module is offline, did not answer, or the agent did not answer in time | 504 |

The service's spec must declare publishing `topics.AGENT_COMMAND` and subscribing
`topics.AGENT_COMMAND_RESULT`; call `start()` once after the link connected.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any, Protocol

from backplane import catalog
from iomodule.commands import COMMANDS

from chargepark import topics

ANSWER_S = 3.0  # the agent answers in ~100 ms (bus retries included); beyond this it is gone or stuck
RESTART = catalog.RESET  # the bus command that restarts the module itself (not in the point's table)


class CommandError(Exception):
    http_status = 409

    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class InvalidCommand(CommandError):
    http_status = 422


class UnknownPoint(CommandError):
    http_status = 404


class PointRefused(CommandError):
    http_status = 409


class PointOffline(CommandError):
    http_status = 504


# The agent's result `kind` -> the error it raises here (services/controller_agent/main.py sets it).
KINDS: dict[str, type[CommandError]] = {
    "invalid": InvalidCommand,
    "unknown": UnknownPoint,
    "refused": PointRefused,
    "offline": PointOffline,
}


class Link(Protocol):
    def publish(self, topic: str, payload: str | bytes) -> None: ...

    async def subscribe(self, subscription: str, handler: Any) -> None: ...


class PointOps:
    def __init__(self, link: Link, answer_s: float = ANSWER_S) -> None:
        self.link = link
        self.answer_s = answer_s
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def start(self) -> None:
        await self.link.subscribe(topics.subscription(topics.AGENT_COMMAND_RESULT), self._on_result)

    def _on_result(self, topic: str, raw: bytes) -> None:
        try:
            reply = json.loads(raw)
            waiter = self._pending.get(str(reply.get("id", "")))
        except (ValueError, AttributeError):
            return  # not ours to judge; the waiter times out
        if waiter is not None and not waiter.done():
            waiter.set_result(reply)

    async def command(self, uid: str, name: str, value: Any = None) -> None:
        """Returns once the module applied the command; CommandError otherwise."""
        if name != RESTART:
            try:
                COMMANDS.args(name, value)
            except ValueError as e:
                raise InvalidCommand(str(e), name) from None
        rid = secrets.token_hex(8)
        waiter = asyncio.get_running_loop().create_future()
        self._pending[rid] = waiter
        try:
            self.link.publish(
                topics.fill(topics.AGENT_COMMAND, uid=uid),
                json.dumps({"name": name, "value": value, "id": rid}),
            )
            try:
                async with asyncio.timeout(self.answer_s):
                    reply = await waiter
            except TimeoutError:
                raise PointOffline(
                    "the controller agent did not answer within %.0f s" % self.answer_s
                ) from None
        finally:
            del self._pending[rid]
        if not reply.get("ok"):
            kind = KINDS.get(str(reply.get("kind", "")), PointRefused)
            raise kind(str(reply.get("error", "refused")), name if kind is InvalidCommand else "")

    async def restart(self, uid: str) -> None:
        """Restarts the module (the bus RESET); acknowledged once the module took the request."""
        await self.command(uid, RESTART)

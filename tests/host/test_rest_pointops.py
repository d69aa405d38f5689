"""The one command path to a point (chargepark.pointops): validated first, acknowledged by the agent's result
with the same request id, every failure a typed error with its HTTP status."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from chargepark import pointops, topics

Handler = Callable[[str, bytes], None]


class LoopLink:
    """Stands in for the MQTT link: a command is answered by `answer(request)` (None: no answer)."""

    def __init__(self, answer: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
        self.answer = answer
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.handler: Handler | None = None

    async def subscribe(self, subscription: str, handler: Handler) -> None:
        assert subscription == topics.subscription(topics.AGENT_COMMAND_RESULT)
        self.handler = handler

    def publish(self, topic: str, payload: str | bytes) -> None:
        req = json.loads(payload)
        self.sent.append((topic, req))
        uid = topics.uid_of(topic, topics.AGENT_COMMAND) or ""
        result = topics.fill(topics.AGENT_COMMAND_RESULT, uid=uid)
        reply = self.answer(req)
        assert self.handler is not None
        handler = self.handler
        loop = asyncio.get_running_loop()
        loop.call_soon(handler, result, json.dumps({"id": "someone-else", "ok": False}).encode())
        if reply is not None:
            loop.call_later(0.01, handler, result, json.dumps(dict(reply, id=req["id"])).encode())


def run(link: LoopLink, *call: Any, answer_s: float = 3.0) -> None:
    async def go() -> None:
        ops = pointops.PointOps(link, answer_s)
        await ops.start()
        if call[0] == "restart":
            await ops.restart(call[1])
        else:
            await ops.command(*call)

    asyncio.run(go())


def test_a_command_returns_once_the_agent_confirmed_it() -> None:
    link = LoopLink(lambda req: {"ok": True})
    run(link, "CP2", "enable", False)
    topic, req = link.sent[0]
    assert topic == topics.fill(topics.AGENT_COMMAND, uid="CP2")
    assert (req["name"], req["value"]) == ("enable", False) and req["id"]
    run(link, "restart", "CP2")
    assert link.sent[-1][1]["name"] == "reset"


def test_a_bad_command_is_refused_before_anything_is_sent() -> None:
    link = LoopLink(lambda req: {"ok": True})
    with pytest.raises(pointops.InvalidCommand) as e:
        run(link, "CP2", "setpoint_ma", 90000)
    assert e.value.http_status == 422 and "80000" in e.value.reason and e.value.field == "setpoint_ma"
    with pytest.raises(pointops.InvalidCommand):
        run(link, "CP2", "no_such_command")
    assert link.sent == []


@pytest.mark.parametrize(
    ("kind", "error", "status"),
    [("offline", pointops.PointOffline, 504), ("refused", pointops.PointRefused, 409),
     ("unknown", pointops.UnknownPoint, 404), ("invalid", pointops.InvalidCommand, 422),
     ("", pointops.PointRefused, 409)],
)  # fmt: skip
def test_each_failure_kind_of_the_agent_is_its_own_error(
    kind: str, error: type[pointops.CommandError], status: int
) -> None:
    link = LoopLink(lambda req: {"ok": False, "kind": kind, "error": "why: %s" % kind})
    with pytest.raises(error) as e:
        run(link, "CP2", "enable", True)
    assert type(e.value) is error and e.value.http_status == status and e.value.reason == "why: %s" % kind


def test_no_answer_from_the_agent_is_a_504() -> None:
    link = LoopLink(lambda req: None)
    with pytest.raises(pointops.PointOffline) as e:
        run(link, "CP2", "enable", True, answer_s=0.2)
    assert e.value.http_status == 504 and "did not answer" in e.value.reason

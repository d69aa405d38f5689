"""The second, independent Central System: `ocpp-rpc` (Node, from the npm registry, installed by dev.sh into
out/ocpp-rpc) in strict mode, run as tests/host/ocpp_rpc_cs.js and driven over lines of JSON on its
stdin/stdout. It records every CALL the charge point sends (`received`, as ocppkit's) and every message that
failed its own OCPP 1.6 schema validation, in either direction (`invalid`); `call` makes a CALL to the
charge point and returns its result (a CALLERROR raises RpcError)."""

from __future__ import annotations

import itertools
import json
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from tests.host.ocppkit import Received

TOP = Path(__file__).resolve().parents[2]
MODULES = TOP / "out" / "ocpp-rpc" / "node_modules"
SCRIPT = Path(__file__).with_name("ocpp_rpc_cs.js")


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__("%s: %s" % (error.get("code"), error.get("message")))
        self.code = str(error.get("code"))


class RpcCentralSystem:
    def __init__(self, user: str = "", key: str = "") -> None:
        node = shutil.which("node")
        assert node, "node is not installed (apt nodejs; ./dev.sh setup)"
        assert (MODULES / "ocpp-rpc").is_dir(), "ocpp-rpc is not installed: run ./dev.sh setup"
        self.received: list[Received] = []
        self.invalid: list[dict[str, Any]] = []  # strict validation failures, both directions
        self.connections: list[dict[str, Any]] = []
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._port: queue.Queue[int] = queue.Queue()
        self.proc = subprocess.Popen(
            [node, str(SCRIPT), str(MODULES), user, key],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self._port.get(timeout=30)

    @property
    def url(self) -> str:
        return "ws://127.0.0.1:%d/ocpp/CB0001" % self.port

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = json.loads(line)
            event = msg.pop("event")
            if event == "listening":
                self._port.put(msg["port"])
            elif event == "connected":
                self.connections.append(msg)
            elif event == "call":
                self.received.append(Received(msg["method"], msg["params"], msg["messageId"]))
            elif event == "invalid":
                self.invalid.append(msg)
            elif event == "answer":
                self._answers[msg["id"]].put(msg)

    def _send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(json.dumps(obj) + "\n")
            self.proc.stdin.flush()

    def set_boot(self, statuses: list[str]) -> None:
        self._send({"set": "boot", "value": statuses})

    def call(self, method: str, params: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        n = next(self._ids)
        answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._answers[n] = answers
        self._send({"id": n, "method": method, "params": params})
        try:
            answer = answers.get(timeout=timeout)
        finally:
            del self._answers[n]
        if "error" in answer:
            raise RpcError(answer["error"])
        return dict(answer["result"])

    def actions(self, *names: str) -> list[Received]:
        return [r for r in list(self.received) if not names or r.action in names]

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

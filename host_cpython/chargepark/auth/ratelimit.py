"""Login attempts per client: at most `MAX_FAILURES` failed logins in `WINDOW_S`; then refused until the
oldest failure leaves the window (a guessing client gets 5 tries a minute, a mistyping user is not locked
out for long)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_S = 60.0
MAX_CLIENTS = 10_000  # the table of clients is bounded: the oldest are forgotten first


class LoginLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float]:
        now = self._clock()
        seen = self._failures.get(client, deque())
        while seen and now - seen[0] >= WINDOW_S:
            seen.popleft()
        return seen

    def retry_after(self, client: str) -> float:
        """0 when the client may try now, else seconds to wait."""
        seen = self._recent(client)
        if len(seen) < MAX_FAILURES:
            return 0.0
        return max(0.0, WINDOW_S - (self._clock() - seen[0]))

    def failed(self, client: str) -> None:
        seen = self._recent(client)
        seen.append(self._clock())
        self._failures.pop(client, None)
        self._failures[client] = seen  # most recent last, for the bound below
        while len(self._failures) > MAX_CLIENTS:
            del self._failures[next(iter(self._failures))]

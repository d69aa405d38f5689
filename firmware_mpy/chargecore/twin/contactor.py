"""Contactor: command against auxiliary-contact feedback, debounce, timeout, weld detection."""

from chargecore.twin.arith import elapsed
from chargecore.twin.consts import (
    AUX_NC,
    AUX_NONE,
    CT_DEFAULT_DEBOUNCE_MS,
    CT_DEFAULT_TIMEOUT_MS,
    CT_LOST,
    CT_NOT_CLOSED,
    CT_OK,
    CT_WELDED,
)


class Contactor:
    """update() returns the coil drive (1 = energise): the command, unless a fault is latched."""

    def __init__(self, aux, debounce_ms=CT_DEFAULT_DEBOUNCE_MS, timeout_ms=CT_DEFAULT_TIMEOUT_MS):
        if aux < AUX_NONE or aux > AUX_NC or debounce_ms < 0 or timeout_ms < 0:
            raise ValueError("invalid contactor configuration")
        self.aux = aux
        self.debounce_ms = debounce_ms
        self.timeout_ms = timeout_ms
        self.reset()

    def reset(self):
        """Clears a latched fault (a welded contactor needs a person to reset it)."""
        self.fault = CT_OK
        self.closed = 0  # debounced feedback: 1 = contactor closed
        self._started = 0
        self._pend = 0
        self._pend_at = 0
        self._cmd = 0
        self._cmd_at = 0
        self._settling = 1

    def update(self, now_ms, command, aux_high):
        command = 1 if command else 0
        if self.aux == AUX_NONE:
            self.closed = command
            return command
        raw = 1 if aux_high else 0
        if self.aux == AUX_NC:
            raw = 1 - raw
        if not self._started:
            self._started = 1
            self._cmd = command
            self._cmd_at = now_ms
            self._pend_at = now_ms
        if raw != self._pend:
            self._pend = raw
            self._pend_at = now_ms
        if self._pend != self.closed and elapsed(now_ms, self._pend_at) >= self.debounce_ms:
            self.closed = self._pend
        if command != self._cmd:
            self._cmd = command
            self._cmd_at = now_ms
            self._settling = 1
        if self.fault == CT_OK:
            if self.closed == self._cmd:
                self._settling = 0
            elif self._settling:
                if elapsed(now_ms, self._cmd_at) >= self.timeout_ms:
                    self.fault = CT_WELDED if self._cmd == 0 else CT_NOT_CLOSED
            else:
                self.fault = CT_WELDED if self._cmd == 0 else CT_LOST
        return self._cmd if self.fault == CT_OK else 0

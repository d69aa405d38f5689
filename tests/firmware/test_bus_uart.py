"""The board transport drives RS-485 direction: DE high only while a frame is being sent.

No board here, so `machine` is a recording stand-in; select.poll needs a file descriptor, a pipe's.
"""

import os
import sys
import types

from backplane import catalog, frame, transport


class Recorder:
    def __init__(self):
        self.log = []


def fake_machine(rec, rfd):
    class Pin:
        OUT = 1

        def __init__(self, n, mode=None, value=None):
            self.n = n
            if value is not None:
                rec.log.append(("de", value))

        def value(self, v):
            rec.log.append(("de", v))

    class UART:
        def __init__(self, uart_id, **kw):
            rec.log.append(("open", uart_id, kw["baudrate"]))
            self.rx = b""

        def fileno(self):
            return rfd

        def write(self, data):
            rec.log.append(("write", data))

        def flush(self):
            rec.log.append(("flush",))

        def any(self):
            return len(self.rx)

        def read(self, n):
            data, self.rx = self.rx[:n], self.rx[n:]
            return data

        def deinit(self):
            rec.log.append(("deinit",))

    return types.SimpleNamespace(Pin=Pin, UART=UART)


def test_rs485_driver_enable_wraps_each_frame(monkeypatch):
    rec = Recorder()
    rfd, wfd = os.pipe()
    monkeypatch.setitem(sys.modules, "machine", fake_machine(rec, rfd))
    board = {"bus": {"uart": 1, "baud": 1000000, "tx": 4, "rx": 5, "de": 6}}
    t = transport.open_transport(board, 3)
    data = frame.encode(0, 3, 1, catalog.DIAG, b"")
    t.write(data)
    assert rec.log == [("open", 1, 1000000), ("de", 0), ("de", 1), ("write", data), ("flush",), ("de", 0)]
    assert t.read() == b"" and not t.wait(0)
    t.uart.rx = b"abc"
    os.write(wfd, b"x")
    assert t.wait(0) and t.read() == b"abc"
    t.close()
    os.close(rfd)
    os.close(wfd)
    assert transport.open_transport({}, 3) is None  # no bus on this board and no simulated medium

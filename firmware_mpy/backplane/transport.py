"""Module-side byte transports: the simulated medium (TCP on loopback) and a real UART (RS-485).

Both offer `read() -> bytes` (non-blocking, b"" when idle), `write(data)` (whole frame, returns when
sent) and `wait(timeout_ms)` (sleep until bytes arrive or the time is up; main uses it between ticks).
"""

import errno
import select
import socket


class SimTransport:
    """Client of the simulated multi-drop medium (chargepark.bus.medium) on loopback."""

    def __init__(self, host, port, position):
        addr = socket.getaddrinfo(host, port)[0][-1]
        self.sock = socket.socket()
        self.sock.connect(addr)
        # The medium learns our position from one hello line, then carries raw SLIP bytes.
        self._send(b"P%d\n" % position)
        self.sock.setblocking(False)
        self.poller = select.poll()
        self.poller.register(self.sock, select.POLLIN)

    def _send(self, data):
        view = memoryview(data)
        while view:
            try:
                n = self.sock.send(view)
            except OSError as e:
                if e.args[0] != errno.EAGAIN:
                    raise
                self.poller.poll(1)  # socket buffer full: wait for room
                continue
            view = view[n:]

    def write(self, data):
        self._send(data)

    def read(self):
        try:
            data = self.sock.recv(2048)
        except OSError as e:
            if e.args[0] != errno.EAGAIN:
                raise
            return b""
        if not data:
            raise OSError("bus medium closed the connection")
        return data

    def wait(self, timeout_ms):
        return bool(self.poller.poll(timeout_ms))

    def close(self):
        self.sock.close()


class UartTransport:
    """machine.UART, with the RS-485 driver-enable pin raised only while this module talks."""

    def __init__(self, uart_id, baudrate, tx=None, rx=None, de=None):
        import machine

        kw = {"baudrate": baudrate, "rxbuf": 2048}
        if tx is not None:
            kw["tx"] = machine.Pin(tx)
            kw["rx"] = machine.Pin(rx)
        self.uart = machine.UART(uart_id, **kw)
        self.de = machine.Pin(de, machine.Pin.OUT, value=0) if de is not None else None
        self.poller = select.poll()
        self.poller.register(self.uart, select.POLLIN)

    def write(self, data):
        if self.de:
            self.de.value(1)
        self.uart.write(data)
        if self.de:
            self.uart.flush()  # returns once the last stop bit left the shift register
            self.de.value(0)

    def read(self):
        n = self.uart.any()
        return self.uart.read(n) if n else b""

    def wait(self, timeout_ms):
        return bool(self.poller.poll(timeout_ms))

    def close(self):
        self.uart.deinit()


def open_transport(board, position, sim_endpoint=None):
    """The transport a board's data names: `"bus": {"uart": id, "baud", "tx", "rx", "de"}` or the sim.

    `sim_endpoint` ("host:port", from --bus or CHARGEPARK_BUS) selects the simulated medium.
    """
    if sim_endpoint:
        host, port = sim_endpoint.rsplit(":", 1)
        return SimTransport(host, int(port), position)
    bus = board.get("bus")
    if not bus or "uart" not in bus:
        return None
    return UartTransport(bus["uart"], bus.get("baud", 1000000), bus.get("tx"), bus.get("rx"), bus.get("de"))

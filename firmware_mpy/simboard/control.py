"""Sim-control channel: JSON lines over TCP on loopback (protocol in docs/point-api.md).

Non-blocking: `service()` is called from the module's main loop and handles whatever has arrived.
The unix `micropython` socket has no getsockname(), so port 0 means "try random free ports".
"""

import json
import select
import socket

try:
    from os import urandom
except ImportError:  # pragma: no cover
    urandom = None

_MAX_LINE = 65536


def _listen(port):
    tries = 1 if port else 200
    last = None
    for _ in range(tries):
        p = port or 20000 + (urandom(2)[0] << 8 | urandom(2)[1]) % 40000
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(socket.getaddrinfo("127.0.0.1", p)[0][-1])
            s.listen(8)
            return s, p
        except OSError as e:
            s.close()
            last = e
    raise OSError("sim-control: no free port (%s)" % last)


class ControlServer:
    """Accepts clients; each complete line is passed to `handler(request dict) -> reply dict`."""

    def __init__(self, port, handler):
        self.sock, self.port = _listen(port)
        self.handler = handler
        self.poll = select.poll()
        self.poll.register(self.sock, select.POLLIN)
        self.clients = {}  # fileno -> [socket, pending bytes]

    def service(self, timeout_ms=0):
        for entry in self.poll.poll(timeout_ms):
            obj = entry[0]
            fd = obj if isinstance(obj, int) else obj.fileno()
            if fd == self.sock.fileno():
                self._accept()
            elif fd in self.clients:
                self._read(fd)

    def _accept(self):
        try:
            conn = self.sock.accept()[0]
        except OSError:
            return
        self.clients[conn.fileno()] = [conn, b""]
        self.poll.register(conn, select.POLLIN)

    def _drop(self, fd):
        conn = self.clients.pop(fd)[0]
        try:
            self.poll.unregister(conn)
        except (OSError, ValueError, KeyError):
            pass
        conn.close()

    def _read(self, fd):
        entry = self.clients[fd]
        try:
            data = entry[0].recv(4096)
        except OSError:
            data = b""
        if not data:
            self._drop(fd)
            return
        buf = entry[1] + data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                self._answer(fd, line)
                if fd not in self.clients:
                    return
        if len(buf) > _MAX_LINE:
            self._send(fd, {"ok": False, "error": "line too long"})
            buf = b""
        if fd in self.clients:
            self.clients[fd][1] = buf

    def _answer(self, fd, line):
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("a request is a JSON object")
            reply = self.handler(req)
        except Exception as e:  # a bad request is answered, never fatal to the module
            reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        self._send(fd, reply)

    def _send(self, fd, reply):
        try:
            self.clients[fd][0].sendall((json.dumps(reply) + "\n").encode())
        except OSError:
            self._drop(fd)

    def close(self):
        for fd in list(self.clients):
            self._drop(fd)
        self.sock.close()

"""The IO module's end of the bus: answers the head, feeds the ChargePoint, never blocks the tick.

main.py creates one `ModuleLink` and calls `service(now_ms)` every loop iteration (and may sleep in
`wait(timeout_ms)` until the next tick, which wakes on bus bytes). Every request frame is answered exactly
once: a repeated frame (the head retried because our answer was lost) gets the cached answer again and is
never applied twice. Events are kept until the head acknowledges them in a later poll.
"""

import os
import struct

from chargedefs import HIGHER_OK
from chargehandlers import Table
from iomodule.meters import SLOTS

from backplane import catalog, frame, slots
from backplane.image import BadImage
from backplane.update import UpdateReceiver

MAX_EVENTS = 64
RECENT_BROADCASTS = 8
REQUESTS = Table()  # request type -> handler(link, *fields) -> the answer's payload
_on = REQUESTS.on


class ModuleLink:
    def __init__(self, point, transport, identity, board):
        self.point = point
        self.transport = transport
        self.position = identity["position"]
        # A fresh random boot id tells the head that this module restarted (re-identify, re-configure).
        self.boot_id = struct.unpack("<I", os.urandom(4))[0] & 0x7FFFFFFF
        known = {
            "uid": identity["uid"],
            "hw_version": board.get("hw_version", ""),
            "fw_version": slots.firmware_version(),
            "board": board.get("name", ""),
            "position": self.position,
            "catalog": catalog.CATALOG_HASH,
            "boot_id": self.boot_id,
            "slot": slots.describe(),
        }
        # In the catalog's wire order; each answer appends its "seq", the last field.
        self.identity = [known[n] for n in catalog.MESSAGES[catalog.IDENTIFY | catalog.RESPONSE][1][:-1]]
        self.updater = UpdateReceiver(board.get("name", ""))
        self.deframer = frame.Deframer()
        self.live = [0] * len(catalog.LIVE_NAMES)
        self.events = []
        self.event_seq = 0
        # Exactly once: the last request and its answer (for a retry), the last sequence number (frames
        # from before it are late copies), and the recent broadcasts (they have no answer to retry).
        self.last_request = None
        self.last_reply = None
        self.last_seq = None
        self.recent_broadcasts = [None] * RECENT_BROADCASTS
        self.recent_next = 0
        self.confirmed = False
        self.reset_pending = False
        self.rx = 0
        self.tx = 0
        self.crc_errors = 0
        self.duplicates = 0
        self.bad_messages = 0
        self.events_lost = 0

    def service(self, now_ms):
        """Handle every complete frame received so far and collect the point's events; non-blocking."""
        data = self.transport.read()
        if data:
            for raw in self.deframer.feed(data):
                self._frame(raw, now_ms)
        self._collect_events()
        if self.reset_pending:
            slots.reset()

    def wait(self, timeout_ms):
        """Sleep until bus bytes arrive or `timeout_ms` passes."""
        return self.transport.wait(timeout_ms)

    def counters(self):
        return [
            self.rx,
            self.tx,
            self.crc_errors,
            self.duplicates,
            self.bad_messages,
            self.deframer.overruns,
            self.events_lost,
        ]

    def _collect_events(self):
        while True:
            ev = self.point.pop_event()
            if ev is None:
                return
            if len(self.events) >= MAX_EVENTS:
                self.events.pop(0)
                self.events_lost += 1
            self.event_seq += 1
            self.events.append([self.event_seq, ev[0], ev[1]])

    def _frame(self, raw, now_ms):
        dst = frame.peek_dst(raw)
        if dst != self.position and dst != frame.BROADCAST:
            return  # another module's frame: not ours to check
        try:
            _, src, seq, mtype, payload = frame.decode(raw)
        except frame.FrameError:
            self.crc_errors += 1
            return
        if src != frame.HEAD:
            return  # another module's answer
        self.rx += 1
        self.point.head_seen(now_ms)
        if dst == frame.BROADCAST:
            if raw in self.recent_broadcasts:
                self.duplicates += 1
                return
            self.recent_broadcasts[self.recent_next] = raw
            self.recent_next = (self.recent_next + 1) % RECENT_BROADCASTS
            self._handle(mtype, payload)  # broadcasts are never answered
            return
        if raw == self.last_request:
            self.duplicates += 1
            self._send(self.last_reply)  # our answer was lost: the same answer, not a second application
            return
        rtype, body = None, None
        if mtype == catalog.IDENTIFY:
            rtype, body = self._handle(mtype, payload)  # no side effects: answered whatever its number
        elif self.last_seq is not None and not 0 < ((seq - self.last_seq) & 0xFF) < 128:
            self.duplicates += 1  # an old frame arriving late (delayed or repeated on the line): ignore it
            return
        else:
            rtype, body = self._handle(mtype, payload)
            self.last_seq = seq
        reply = frame.encode(frame.HEAD, self.position, seq, rtype, body)
        if mtype != catalog.IDENTIFY:
            self.last_request = raw
            self.last_reply = reply
        self._send(reply)
        if not self.confirmed:
            self.confirmed = True
            slots.confirm()  # the head talked to us: this firmware came up

    def _send(self, data):
        self.transport.write(data)
        self.tx += 1

    def _handle(self, mtype, payload):
        """(response type, payload) for one request; every refusal becomes an ERROR with its reason."""
        try:
            fields = catalog.unpack(mtype, payload)
            return mtype | catalog.RESPONSE, self._dispatch(mtype, fields)
        except BadImage as e:
            reason = str(e)
        except ValueError as e:  # includes chargeschema.Invalid and a point's refused command
            self.bad_messages += 1
            reason = str(e) or "invalid"
        except TypeError:
            self.bad_messages += 1
            reason = "wrong field types"
        except Exception as e:
            self.bad_messages += 1
            reason = "internal: %s" % type(e).__name__
        return catalog.ERROR, catalog.pack(catalog.ERROR, mtype, reason)

    def _dispatch(self, mtype, fields):
        handler = REQUESTS.handler(mtype)
        if handler is None:
            raise ValueError("not a request: %s" % catalog.name_of(mtype))
        return handler(self, *fields)

    # --- one handler per request type (the answer's payload) -------------------------------------------
    @_on(catalog.POLL)
    def _poll(self, boot_id, ack):
        if boot_id == self.boot_id:
            while self.events and self.events[0][0] <= ack:
                self.events.pop(0)
        self.point.state_into(self.live)
        record = struct.pack(catalog.LIVE_FORMAT, *self.live)
        return catalog.pack(
            catalog.POLL | catalog.RESPONSE, self.boot_id, self.events[: catalog.EVENTS_PER_POLL], record
        )

    @_on(catalog.COMMAND)
    def _command(self, name, value):
        if name == catalog.RESET:
            self.reset_pending = True  # after the answer went out
        else:
            self.point.command(name, value)
        return catalog.pack(catalog.COMMAND | catalog.RESPONSE)

    @_on(catalog.CONFIG)
    def _config(self, checksum, wire):
        point = self.point
        point.configure(catalog.config_from_wire(wire), checksum)  # checks the checksum before applying
        return catalog.pack(catalog.CONFIG | catalog.RESPONSE, point.config_version, point.config_checksum)

    @_on(catalog.IDENTIFY)
    def _identify(self):
        seq = -1 if self.last_seq is None else self.last_seq
        return catalog.pack(catalog.IDENTIFY | catalog.RESPONSE, *self.identity, seq)

    @_on(catalog.DIAG)
    def _diag(self):
        return catalog.pack(catalog.DIAG | catalog.RESPONSE, *self.counters())

    @_on(catalog.HIGHER_METER)
    def _higher_meter(self):
        reading = [0] * SLOTS
        state = self.point.higher_meter(reading)
        return catalog.pack(
            catalog.HIGHER_METER | catalog.RESPONSE, state, reading if state == HIGHER_OK else []
        )

    @_on(catalog.UPDATE_BEGIN)
    def _update_begin(self, size, sha256, board, chunk):
        slot = self.updater.begin(size, sha256, board, chunk)
        return catalog.pack(catalog.UPDATE_BEGIN | catalog.RESPONSE, slot)

    @_on(catalog.UPDATE_CHUNK)
    def _update_chunk(self, offset, data, crc):
        return catalog.pack(catalog.UPDATE_CHUNK | catalog.RESPONSE, self.updater.chunk(offset, data, crc))

    @_on(catalog.UPDATE_END)
    def _update_end(self):
        return catalog.pack(catalog.UPDATE_END | catalog.RESPONSE, self.updater.end())


def bus_endpoint(argv=None):
    """The simulated medium named by `--bus HOST:PORT` or CHARGEPARK_BUS, else None (a real UART)."""
    import sys

    argv = sys.argv if argv is None else argv
    for i in range(len(argv) - 1):
        if argv[i] == "--bus":
            return argv[i + 1]
    return os.getenv("CHARGEPARK_BUS") or None


def open_link(point, board, identity=None, argv=None):
    """main.py's one call: the ModuleLink for this board (sim medium or UART), or None without a bus.

    `identity` defaults to ./identity.json ({"uid", "position"}) in the flash root.
    """
    from backplane import transport

    if identity is None:
        import json

        with open("identity.json") as f:
            identity = json.load(f)
    t = transport.open_transport(board, identity["position"], bus_endpoint(argv))
    return ModuleLink(point, t, identity, board) if t else None

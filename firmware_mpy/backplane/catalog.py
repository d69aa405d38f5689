"""The message catalog: every message type, its fields, and the typed encoding of each payload.

Defined once here and imported by the IO module and the head. Live state and configuration are not
listed a second time: they follow chargedefs.LIVE_FIELDS and the `module=True` fields of pointconfig.
CATALOG_HASH (in IDENTITY) changes whenever any of those lists changes, so the head detects firmware
that speaks a different catalog before it sends a single configuration.
"""

import struct
from binascii import crc32

import chargedefs
import chargeschema
import pointconfig

from backplane import values

CATALOG_VERSION = 1

# Requests (head -> module). A response has the request type | RESPONSE; ERROR answers any request.
IDENTIFY = 0x01
CONFIG = 0x02
POLL = 0x03
COMMAND = 0x04
DIAG = 0x05
HIGHER_METER = 0x06
UPDATE_BEGIN = 0x10
UPDATE_CHUNK = 0x11
UPDATE_END = 0x12
RESPONSE = 0x80
ERROR = 0xFF

# Field names of each message, in wire order. IDENTIFY and UPDATE_* are frozen across catalog versions
# so that a head can always identify and update firmware that speaks an older catalog.
MESSAGES = {
    IDENTIFY: ("identify", ()),
    IDENTIFY | RESPONSE: (
        "identity",
        ("uid", "hw_version", "fw_version", "board", "position", "catalog", "boot_id", "slot", "seq"),
    ),
    CONFIG: ("config", ("checksum", "fields")),
    CONFIG | RESPONSE: ("config_ack", ("version", "checksum")),
    POLL: ("poll", ("boot_id", "event_ack")),
    POLL | RESPONSE: ("state", ("boot_id", "events", "live")),
    COMMAND: ("command", ("name", "value")),
    COMMAND | RESPONSE: ("command_ack", ()),
    DIAG: ("diag", ()),
    DIAG | RESPONSE: (
        "diag_info",
        ("rx", "tx", "crc_errors", "duplicates", "bad_messages", "overruns", "events_lost"),
    ),
    # the load circuit's higher-level meter on the module's meter line: chargedefs.HIGHER_STATES code and,
    # when "ok", the reading in meter slots (iomodule.meters: mV, mA, mW, Wh, permille, mHz), else []
    HIGHER_METER: ("higher_meter", ()),
    HIGHER_METER | RESPONSE: ("higher_reading", ("state", "reading")),
    UPDATE_BEGIN: ("update_begin", ("size", "sha256", "board", "chunk")),
    UPDATE_BEGIN | RESPONSE: ("update_ready", ("slot",)),
    UPDATE_CHUNK: ("update_chunk", ("offset", "data", "crc")),
    UPDATE_CHUNK | RESPONSE: ("update_next", ("offset",)),
    UPDATE_END: ("update_end", ()),
    UPDATE_END | RESPONSE: ("update_done", ("slot",)),
    ERROR: ("error", ("request", "reason")),
}

# Commands travel by name (docs/point-api.md lists the point's); RESET restarts the module itself.
RESET = "reset"
EVENTS_PER_POLL = 4


LIVE_NAMES = tuple(f[0] for f in chargedefs.LIVE_FIELDS)
# Live state travels as one struct record whose layout chargedefs.LIVE_TYPES fixes, field by field.
LIVE_FORMAT = "<" + "".join(chargedefs.LIVE_TYPES)
MODULE_FIELDS = pointconfig.MODULE_FIELDS


def _catalog_hash():
    shape = [CATALOG_VERSION, [[t, MESSAGES[t][0], list(MESSAGES[t][1])] for t in sorted(MESSAGES)]]
    shape.append([list(f) for f in chargedefs.LIVE_FIELDS])
    shape.append(LIVE_FORMAT)
    shape.append([[f.name, f.kind, [i.name for i in (f.item or ())]] for f in MODULE_FIELDS])
    return crc32(chargeschema.canonical(shape).encode()) & 0xFFFFFFFF


CATALOG_HASH = _catalog_hash()
LIVE_SIZE = struct.calcsize(LIVE_FORMAT)


def name_of(mtype):
    entry = MESSAGES.get(mtype)
    return entry[0] if entry else "0x%02x" % mtype


def pack(mtype, *fields):
    """Payload of message `mtype` from its field values in catalog order."""
    names = MESSAGES[mtype][1]
    if len(fields) != len(names):
        raise TypeError("%s takes %d fields" % (name_of(mtype), len(names)))
    return values.encode(fields)


def unpack(mtype, payload):
    """Field values (list, catalog order) of a payload; ValueError if it does not match the catalog."""
    entry = MESSAGES.get(mtype)
    if entry is None:
        raise ValueError("unknown message 0x%02x" % mtype)
    fields = values.decode(payload)
    if not isinstance(fields, list) or len(fields) != len(entry[1]):
        raise ValueError("%s: wrong field count" % entry[0])
    return fields


def config_to_wire(cfg):
    """Module configuration dict -> positional lists (list fields: item fields in item order)."""
    out = []
    for f in MODULE_FIELDS:
        v = cfg[f.name]
        if f.kind == chargeschema.LIST:
            v = [[entry[i.name] for i in f.item] for entry in v]
        out.append(v)
    return out


def config_from_wire(wire):
    """Inverse of config_to_wire; ValueError if the shape does not match this catalog."""
    if not isinstance(wire, list) or len(wire) != len(MODULE_FIELDS):
        raise ValueError("config: wrong field count")
    cfg = {}
    for f, v in zip(MODULE_FIELDS, wire):  # noqa: B905 - MicroPython zip has no strict; lengths checked
        if f.kind == chargeschema.LIST:
            if not isinstance(v, list):
                raise ValueError("config: %s must be a list" % f.name)
            entries = []
            for item in v:
                if not isinstance(item, list) or len(item) != len(f.item):
                    raise ValueError("config: %s entry shape" % f.name)
                entries.append(dict(zip([i.name for i in f.item], item)))  # noqa: B905
            v = entries
        cfg[f.name] = v
    return cfg


def live_pack(snap):
    """The live-state record of a point snapshot (dict keyed by LIVE_NAMES)."""
    return struct.pack(LIVE_FORMAT, *[snap[n] for n in LIVE_NAMES])


def live_unpack(record):
    """Snapshot dict of a live-state record; ValueError if its size does not match this catalog."""
    if not isinstance(record, bytes) or len(record) != LIVE_SIZE:
        raise ValueError("live: wrong record size")
    return dict(zip(LIVE_NAMES, struct.unpack(LIVE_FORMAT, record)))  # noqa: B905

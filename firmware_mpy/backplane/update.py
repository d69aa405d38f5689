"""Module side of a firmware update over the bus: receive chunks into the inactive slot, verify, arm.

begin -> chunk* -> end. Chunks must arrive in order; a repeated chunk (its acknowledgement was lost)
is acknowledged again without writing. The whole image is checked against the SHA-256 the head sent
and against this module's board before the slot is armed for a trial boot; otherwise the module keeps
running the old firmware and the head gets the reason.
"""

import hashlib
import os
from binascii import crc32

from backplane import image, slots

MAX_CHUNK = 768
MAX_IMAGE = 4 * 1024 * 1024


class UpdateReceiver:
    def __init__(self, board):
        self.board = board
        self.file = None
        self.slot = None

    def _abort(self):
        if self.file:
            self.file.close()
            self.file = None
            os.remove(self._part())

    def _part(self):
        return slots.slot_path(self.slot) + ".img"

    def begin(self, size, sha, board, chunk):
        """Start receiving; returns the slot it goes to. BadImage refuses (nothing changes)."""
        self._abort()
        state = slots.load()
        if state is None:
            raise image.BadImage("no firmware slots (module runs from a source tree)")
        if state.get("trying"):
            raise image.BadImage("the running firmware is on trial and not yet confirmed")
        if board != self.board:
            raise image.BadImage("image is for board %s, this is %s" % (board, self.board))
        if not (0 < size <= MAX_IMAGE) or not (0 < chunk <= MAX_CHUNK) or len(sha) != 32:
            raise image.BadImage("bad update parameters")
        try:
            os.mkdir(slots.SLOT_DIR)
        except OSError:
            pass  # exists
        self.slot = slots.inactive(state)
        self.size = size
        self.sha = sha
        self.received = 0
        self.hash = hashlib.sha256()
        self.file = open(self._part(), "wb")
        return self.slot

    def chunk(self, offset, data, crc):
        """Write one chunk; returns the next offset the module expects."""
        if self.file is None:
            raise image.BadImage("no update in progress")
        if crc32(data) & 0xFFFFFFFF != crc:
            raise image.BadImage("chunk crc at %d" % offset)
        if offset < self.received and offset + len(data) <= self.received:
            return self.received  # a repeat: its acknowledgement was lost
        if offset != self.received or offset + len(data) > self.size:
            raise image.BadImage("chunk at %d, expected %d" % (offset, self.received))
        self.file.write(data)
        self.hash.update(data)
        self.received += len(data)
        return self.received

    def end(self):
        """Verify the whole image, unpack it into the slot and arm it for the next start."""
        if self.file is None:
            raise image.BadImage("no update in progress")
        self.file.close()
        self.file = None
        part = self._part()
        try:
            if self.received != self.size:
                raise image.BadImage("image incomplete: %d of %d bytes" % (self.received, self.size))
            if self.hash.digest() != self.sha:
                raise image.BadImage("image sha256 mismatch")
            image.unpack_file(part, slots.slot_path(self.slot), self.board)
        except image.BadImage:
            image.remove_tree(slots.slot_path(self.slot))
            raise
        finally:
            os.remove(part)
        slots.set_trial(self.slot, _hex(self.sha))
        return self.slot


def _hex(data):
    return "".join("%02x" % b for b in data)

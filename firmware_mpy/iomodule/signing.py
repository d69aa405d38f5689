"""A signing meter's transactions (calibration law): the steps of its `signing` registers (iomodule/meters.py
says their roles), one Modbus request at a time on the meter driver's line, between its poll cycles.

The public key is read once when the meter starts answering (and again after it was lost): `key` is then
the DER SubjectPublicKeyInfo in hex and `key_new` set until the point took it. `begin(session)` (the
point's session start) sets the meter's clock when the point knows the wall clock (`set_clock`: the head's
command `clock`), writes the gateway's OCMF metadata, selects ECDSA-secp256r1-SHA256 and starts the
meter's transaction; a transaction the meter still runs (a power failure or reset in a session) is stopped
first, its record dropped. `end(session)` stops it, waits for the signature and reads the OCMF payload
and signature: `signed` is then [session, record, 0] with the record
`OCMF|payload|{"SA":"ECDSA-secp256r1-SHA256","SD":"<signature hex>"}`, or [session, "", code] when the
meter refused (its status code, >= 128) or did not answer (NO_ANSWER), or the payload exceeded MAX_DATA
(TOO_LONG). Requests ask at most `TRIES` times; a busy status is asked again every STATUS_EVERY_MS for at
most STATUS_WAIT_MS. The buffers are allocated here once; only the record string and the clock's large
integers (once a session) and the key string (once a meter) are made later, so idle polling allocates
nothing.
"""

from binascii import hexlify

from iomodule import meters
from iomodule.modbus_rtu import DONE, READ_HOLDING

TRIES = 3
STATUS_EVERY_MS = 100
STATUS_WAIT_MS = 15000
MAX_DATA = 560  # payload bytes; the record must fit one bus frame beside the live state
MAX_SIG = 72  # a DER ECDSA P-256 signature
NO_ANSWER = -1
TOO_LONG = -2
# what the gateway says of itself in every record (the meter adds its own fields and the readings)
META = b'{"FV":"1.0","GI":"CHARGEPARK","GV":"1.0","IS":false,"IT":"NONE","CT":"EVSEID"}'

S_KEY = 0
S_STATE = 1
S_META = 2
S_META_LEN = 3
S_ALGO = 4
S_START = 5
S_STOP = 6
S_STATUS = 7
S_LENS = 8
S_DATA = 9
S_SIG = 10
S_TIME = 11
S_SYNC = 12

KEY = (S_KEY,)
BEGIN = (S_STATE, S_META, S_META_LEN, S_ALGO, S_START, S_STATUS)
STALE = (S_STOP, S_STATUS, S_META, S_META_LEN, S_ALGO, S_START, S_STATUS)  # BEGIN found one running
# the same with the meter's clock set first (the point knows the wall clock)
TIMED_BEGIN = (S_STATE, S_TIME, S_SYNC, S_META, S_META_LEN, S_ALGO, S_START, S_STATUS)
TIMED_STALE = (S_STOP, S_STATUS, S_TIME, S_SYNC, S_META, S_META_LEN, S_ALGO, S_START, S_STATUS)
END = (S_STOP, S_STATUS, S_LENS, S_DATA, S_SIG)
_META_WORDS = tuple(
    (META[i] << 8) | (META[i + 1] if i + 1 < len(META) else 0) for i in range(0, len(META), 2)
)


def ocmf_record(payload, signature):
    """The OCMF record of a payload (text) and its DER signature (bytes)."""
    sd = hexlify(signature).decode().upper()
    return "OCMF|" + payload + '|{"SA":"ECDSA-secp256r1-SHA256","SD":"' + sd + '"}'


class MeterSigner:
    def __init__(self, signing):
        self.regs = signing
        self.key_raw = bytearray(2 * signing["key_regs"])
        self.data = bytearray(MAX_DATA)
        self.sig = bytearray(MAX_SIG)
        self.key = None
        self.key_new = False
        self.signed = None
        self.signed_new = False
        self.queue = [(KEY, 0)]  # sequences still to run: (steps, session)
        self.steps = None  # the running sequence
        self.at = 0
        self.session = 0
        self.tries = 0
        self.wait_until = 0
        self.status_since = 0
        self.data_len = 0
        self.sig_len = 0
        self.got = 0  # payload bytes read so far
        self.utc_s = -1  # the wall clock (UTC seconds) at module time utc_at_ms; -1: not known
        self.utc_at_ms = 0
        self.time_words = [0, 0, 0]  # what S_TIME writes: UTC offset (min), UTC seconds high, low

    def set_clock(self, utc_s, tz_min, at_ms):
        """The wall clock: `utc_s` UTC seconds at module time `at_ms`, local time `tz_min` minutes ahead."""
        self.utc_s = utc_s
        self.utc_at_ms = at_ms
        self.time_words[0] = tz_min & 0xFFFF

    def begin(self, session):
        self.queue.append((BEGIN if self.utc_s < 0 else TIMED_BEGIN, session))

    def end(self, session):
        self.queue.append((END, session))

    def rekey(self):
        """The meter answers again after it was lost: perhaps another one, with another key."""
        self.queue.append((KEY, 0))

    def due(self, now_ms):
        """True when a request is to be sent now (a sequence runs or waits, and no wait holds it)."""
        if self.steps is None:
            if not self.queue:
                return False
            self.steps, self.session = self.queue.pop(0)
            self.at = 0
            self.tries = 0
            self.status_since = now_ms
        return now_ms - self.wait_until >= 0

    def send(self, now_ms, m, unit, owner):
        r = self.regs
        step = self.steps[self.at]
        if step == S_KEY:
            m.start(now_ms, unit, READ_HOLDING, r["key"], r["key_regs"], owner)
        elif step == S_STATE:
            m.start(now_ms, unit, READ_HOLDING, r["state"], 1, owner)
        elif step == S_META:
            m.write(now_ms, unit, r["meta"], _META_WORDS, len(_META_WORDS), owner)
        elif step == S_META_LEN:
            m.write(now_ms, unit, r["meta_len"], len(META), 1, owner)
        elif step == S_TIME:
            w = self.time_words
            utc = self.utc_s + (now_ms - self.utc_at_ms) // 1000
            w[1] = (utc >> 16) & 0xFFFF
            w[2] = utc & 0xFFFF
            m.write(now_ms, unit, r["time"], w, 3, owner)
        elif step == S_SYNC:
            m.write(now_ms, unit, r["time_sync"], r["synced"], 1, owner)
        elif step == S_ALGO:
            m.write(now_ms, unit, r["algorithm"], 0, 1, owner)  # 0: ECDSA-secp256r1-SHA256
        elif step == S_START or step == S_STOP:
            m.write(now_ms, unit, r["command"], r["start"] if step == S_START else r["stop"], 1, owner)
        elif step == S_STATUS:
            m.start(now_ms, unit, READ_HOLDING, r["status"], 1, owner)
        elif step == S_LENS:
            m.start(now_ms, unit, READ_HOLDING, r["data_len"], 2, owner)  # data_len, sig_len
        elif step == S_DATA:
            n = (self.data_len - self.got + 1) // 2
            m.start(now_ms, unit, READ_HOLDING, r["data"] + self.got // 2, n if n < 125 else 124, owner)
        else:
            m.start(now_ms, unit, READ_HOLDING, r["sig"], (self.sig_len + 1) // 2, owner)

    def answer(self, result, m, now_ms):
        """The answer to the request `send` made: advance, ask again, or end the sequence."""
        if result != DONE:
            self.tries += 1
            if self.tries >= TRIES:
                self._abort(NO_ANSWER)
            return
        self.tries = 0
        step = self.steps[self.at]
        if step == S_KEY:
            k = self.key_raw
            for i in range(len(k) // 2):
                w = m.word(i)
                k[2 * i] = w >> 8
                k[2 * i + 1] = w & 0xFF
            self.key = meters.KEY_PREFIX + hexlify(k).decode().upper()
            self.key_new = True
        elif step == S_STATE:
            if m.word(0) != 0:
                # a transaction left running: stop it, then start ours
                self.steps = STALE if self.steps is BEGIN else TIMED_STALE
                self.at = 0
                return
        elif step == S_STATUS:
            status = m.word(0)
            if status <= meters.SIGNING_BUSY:
                if now_ms - self.status_since >= STATUS_WAIT_MS:
                    self._abort(NO_ANSWER)
                else:
                    self.wait_until = now_ms + STATUS_EVERY_MS
                return
            if status != meters.SIGNED_OK:
                self._abort(status)
                return
        elif step == S_LENS:
            self.data_len = m.word(0)
            self.sig_len = m.word(1)
            self.got = 0
            if self.data_len > MAX_DATA or self.sig_len > MAX_SIG or not self.data_len or not self.sig_len:
                self._abort(TOO_LONG if self.data_len > MAX_DATA else NO_ANSWER)
                return
        elif step == S_DATA:
            self.got = self._take(m, self.data, self.got, self.data_len)
            if self.got < self.data_len:
                return  # the next chunk
        elif step == S_SIG:
            self._take(m, self.sig, 0, self.sig_len)
        self.at += 1
        self.status_since = now_ms
        if self.at == len(self.steps):
            if self.steps is END:
                self._report(self._record(), 0)
            self.steps = None

    def _take(self, m, buf, at, total):
        """Copy the answer's bytes (2 a register, high first) into buf from `at`, at most to `total`."""
        i = 0
        while at < total:
            w = m.word(i >> 1)
            buf[at] = w >> 8 if i & 1 == 0 else w & 0xFF
            at += 1
            i += 1
            if i == 248:
                break  # one answer holds at most 124 registers here
        return at

    def _record(self):
        return ocmf_record(bytes(self.data[: self.data_len]).decode(), bytes(self.sig[: self.sig_len]))

    def _abort(self, code):
        if self.steps is END:
            self._report("", code)
        self.steps = None

    def _report(self, record, code):
        self.signed = [self.session, record, code]
        self.signed_new = True

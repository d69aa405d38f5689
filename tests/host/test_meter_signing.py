"""The simulated Iskra WM3M4C (chargepark.simmeter) is a signing meter: an independent Modbus client
(pymodbus over Modbus/TCP) runs the transaction sequence of the map's `signing` registers and gets an OCMF
payload with the readings at start and end whose ECDSA P-256 signature verifies with the public key the
meter shows; a flipped byte does not."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from chargepark.runtime import free_port
from chargepark.simmeter import MeterImage, rtu_line, serve_rtu, serve_tcp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from iomodule import meters
from iomodule.meter import MeterLine
from iomodule.modbus_rtu import RtuMaster
from pymodbus.client import AsyncModbusTcpClient

from tests.host.test_meter_rtu_pymodbus import PtyPort

SIGNING = meters.MAPS["wm3m4"]["signing"]
READING = [230000, 230000, 230000, 16000, 16000, 16000, 11040000, 12345, 990, 50000]


def _text(words: list[int], n: int) -> bytes:
    return b"".join(w.to_bytes(2, "big") for w in words)[:n]


async def _read(client: AsyncModbusTcpClient, address: int, count: int) -> list[int]:
    out: list[int] = []
    while count > 0:  # at most 125 registers a read
        r = await client.read_holding_registers(address, count=min(count, 100), device_id=1)
        assert not r.isError(), r
        out += r.registers
        address += len(r.registers)
        count -= len(r.registers)
    return out


async def _transaction(image: MeterImage, end_wh: int, meta: dict[str, Any]) -> tuple[str, bytes, bytes]:
    port = free_port()
    server = await serve_tcp(image, "127.0.0.1", port)
    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    try:
        assert await client.connect()
        key_words = await _read(client, SIGNING["key"], SIGNING["key_regs"])
        key_hex = meters.KEY_PREFIX + "".join("%04X" % w for w in key_words)
        text = json.dumps(meta).encode()
        words = [
            (b[0] << 8) | (b[1] if len(b) > 1 else 0)
            for b in (text[i : i + 2] for i in range(0, len(text), 2))
        ]
        assert not (await client.write_registers(SIGNING["meta"], words, device_id=1)).isError()
        assert not (await client.write_register(SIGNING["meta_len"], len(text), device_id=1)).isError()
        assert not (await client.write_register(SIGNING["algorithm"], 0, device_id=1)).isError()
        assert not (await client.write_register(SIGNING["command"], SIGNING["start"], device_id=1)).isError()
        assert await _read(client, SIGNING["state"], 1) == [1]
        assert await _read(client, SIGNING["status"], 1) == [meters.SIGNED_OK]
        reading = list(READING)
        reading[meters.ENERGY] = end_wh
        image.show(reading)
        assert not (await client.write_register(SIGNING["command"], SIGNING["stop"], device_id=1)).isError()
        assert await _read(client, SIGNING["state"], 1) == [0]
        assert await _read(client, SIGNING["status"], 1) == [meters.SIGNED_OK]
        n_data, n_sig = await _read(client, SIGNING["data_len"], 2)
        payload = _text(await _read(client, SIGNING["data"], (n_data + 1) // 2), n_data)
        signature = _text(await _read(client, SIGNING["sig"], (n_sig + 1) // 2), n_sig)
        # a measurement register stays read-only
        assert (await client.write_register(meters.MAPS["wm3m4"]["blocks"][0][0], 1, device_id=1)).isError()
        return key_hex, payload, signature
    finally:
        client.close()
        await server.shutdown()  # type: ignore[no-untyped-call]


def test_simulated_iskra_signs_its_transaction_in_ocmf() -> None:
    image = MeterImage(meters.MAPS["wm3m4"], unit=1, serial="79123456", firmware="2.1")
    image.show(READING)  # 12.345 kWh at start
    meta = {"FV": "1.0", "GI": "CHARGEPARK", "GS": "SIM0001", "IS": True, "IT": "ISO14443", "ID": "04A1B2C3",
            "TT": "0.40 EUR/kWh", "MS": "forged"}  # fmt: skip
    key_hex, payload, signature = asyncio.run(_transaction(image, 20345, meta))
    key = serialization.load_der_public_key(bytes.fromhex(key_hex))
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
    data = json.loads(payload)
    assert data["PG"] == "T1" and data["MV"] == "Iskra" and data["MS"] == "79123456"  # the meter's, not ours
    assert (data["GI"], data["GS"], data["ID"], data["TT"], data["IS"]) == (
        "CHARGEPARK", "SIM0001", "04A1B2C3", "0.40 EUR/kWh", True
    )  # fmt: skip
    rd = data["RD"]
    assert [(r["TX"], r["RV"], r["RU"], r["RI"]) for r in rd] == [
        ("B", 12.345, "kWh", "1-b:1.8.0"), ("E", 20.345, "kWh", "1-b:1.8.0")
    ]  # fmt: skip
    flipped = bytearray(payload)
    flipped[payload.index(b"20.345") + 1] ^= 0x01  # "20.345" -> "21.345"
    with pytest.raises(InvalidSignature):
        key.verify(signature, bytes(flipped), ec.ECDSA(hashes.SHA256()))


def test_signing_commands_out_of_order_are_refused() -> None:
    """A stop without a running transaction (and a second start) answers "invalid state" (131) in the
    status register and signs nothing; an unknown command "invalid command" (130)."""
    image = MeterImage(meters.MAPS["wm3m4"], unit=1, serial="1")
    signer = image.signer
    assert signer is not None
    signer.write(SIGNING["command"], [SIGNING["stop"]], 10)
    assert signer.words[SIGNING["status"]] == 131 and signer.payload == b""
    signer.write(SIGNING["command"], [SIGNING["start"]], 10)
    signer.write(SIGNING["command"], [SIGNING["start"]], 10)
    assert signer.words[SIGNING["status"]] == 131 and signer.words[SIGNING["state"]] == 1
    signer.write(SIGNING["command"], [0x1234], 10)
    assert signer.words[SIGNING["status"]] == 130
    assert MeterImage(meters.MAPS["em24"]).signer is None  # only a map with signing registers signs


def _run_until(line: MeterLine, t0: float, what: Callable[[], Any], within_s: float) -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        line.poll(int((time.monotonic() - t0) * 1000))
        got = what()
        if got is not None:
            return got
        time.sleep(0.005)
    raise AssertionError("not within %.0f s" % within_s)


def test_firmware_driver_gets_a_verifiable_record_from_the_simulated_iskra() -> None:
    """The IO module's meter line (firmware code on CPython) against the pymodbus signing meter on an RTU
    pty: the public key it reports is the meter's; the session's start and end give an OCMF record whose
    signature verifies over its payload with that key and whose readings are the meter's energy at start
    and end; the record with one payload byte changed does not verify."""
    fd, slave, path = rtu_line()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    image = MeterImage(meters.MAPS["wm3m4"], unit=1, serial="10001", firmware="1.0")
    image.show(READING)
    server = asyncio.run_coroutine_threadsafe(serve_rtu(image, path, 19200), loop).result(10)
    try:
        line = MeterLine(RtuMaster(PtyPort(fd), 19200, 300), 1, 200, 3)
        line.fit("wm3m4", "none")
        t0 = time.monotonic()
        assert image.signer is not None
        assert _run_until(line, t0, line.key, 10) == image.signer.public_key_hex
        line.transaction(True, 3)
        _run_until(line, t0, lambda: image.signer.begin if image.signer else None, 10)  # type: ignore[union-attr]
        reading = list(READING)
        reading[meters.ENERGY] = 19876
        image.show(reading)
        line.transaction(False, 3)
        session, record, code = _run_until(line, t0, line.signed, 20)
    finally:
        asyncio.run_coroutine_threadsafe(server.shutdown(), loop).result(10)  # type: ignore[no-untyped-call]
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
        os.close(fd)
        os.close(slave)
    assert (session, code) == (3, 0)
    head, payload, tail = record.split("|")
    sig = json.loads(tail)
    assert head == "OCMF" and sig["SA"] == "ECDSA-secp256r1-SHA256"
    key = serialization.load_der_public_key(bytes.fromhex(image.signer.public_key_hex))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(bytes.fromhex(sig["SD"]), payload.encode(), ec.ECDSA(hashes.SHA256()))
    data = json.loads(payload)
    assert [(r["TX"], r["RV"]) for r in data["RD"]] == [("B", 12.345), ("E", 19.876)]
    assert data["GI"] == "CHARGEPARK" and data["MS"] == "10001"  # the module's metadata, the meter's serial
    with pytest.raises(InvalidSignature):
        key.verify(
            bytes.fromhex(sig["SD"]), payload.replace("19.876", "19.976").encode(), ec.ECDSA(hashes.SHA256())
        )

"""The one bus codec gives the same results on CPython and on the real micropython binary."""

import json
from pathlib import Path

import bus_codec_case as case
import pytest
from backplane import catalog, frame, values

HERE = Path(__file__).parent


def test_roundtrips_on_cpython():
    assert case.roundtrips() == len(case.SAMPLES)
    assert case.split_stream() == [[p, p * 3] for p in range(1, 13)]


def test_corrupted_frames_are_refused_not_applied():
    wire = frame.encode(
        2, frame.HEAD, 1, catalog.COMMAND, catalog.pack(catalog.COMMAND, "setpoint_ma", 16000)
    )
    raw = frame.Deframer().feed(wire)[0]
    for i in range(len(raw)):
        for bit in range(8):
            bad = bytearray(raw)
            bad[i] ^= 1 << bit
            with pytest.raises(frame.FrameError):
                frame.decode(bytes(bad))


def test_decoder_limits():
    with pytest.raises(ValueError):
        values.decode(bytes([values.T_LIST, 0xFF, 0xFF, 0xFF, 0x0F]))  # count beyond the data
    deep = bytes([values.T_LIST, 1] * 10 + [values.T_NONE])
    with pytest.raises(ValueError):
        values.decode(deep)
    with pytest.raises(ValueError):
        values.decode(values.encode(1) + b"\x00")
    d = frame.Deframer()
    assert d.feed(b"\x01" * 5000) == [] and d.overruns == 1
    assert len(d.feed(frame.encode(1, 0, 0, catalog.POLL, catalog.pack(catalog.POLL, 0, 0)))) == 1


def test_config_and_live_follow_the_shared_lists():
    import chargeschema
    import pointconfig

    cfg = chargeschema.validate(pointconfig.FIELDS, {"name": "cp"}, pointconfig.CHECKS)
    cfg["event_actions"] = [chargeschema.defaults(pointconfig.EVENT_ACTION)]
    part = pointconfig.module_part(cfg)
    wire = values.decode(values.encode(catalog.config_to_wire(part)))
    assert catalog.config_from_wire(wire) == part
    snap = {name: i for i, name in enumerate(catalog.LIVE_NAMES)}
    assert catalog.live_unpack(catalog.live_pack(snap)) == snap
    with pytest.raises(ValueError):
        catalog.live_unpack(catalog.live_pack(snap)[:-1])


def test_fuzz_counts_errors_and_never_crashes():
    seen, errors, accepted = case.fuzz(3000)
    assert seen > 1000 and errors > 1000
    assert accepted == 0  # a damaged frame never passes CRC-32 and the catalog


def test_same_results_on_micropython(micropython):
    out = micropython.run(open(HERE / "bus_codec_case.py").read(), extra_path=[HERE], timeout=120)
    on_mpy = json.loads(out.strip().splitlines()[-1])
    assert on_mpy == [len(case.SAMPLES), case.split_stream(), case.fuzz(3000), catalog.CATALOG_HASH]


def test_link_survives_garbage_on_cpython_and_micropython(micropython):
    import bus_link_case

    requests, answers, errors, counted, applied = bus_link_case.run(1500)
    assert answers == requests and errors >= requests * 0.9  # nonsense content is refused, with a reason
    assert counted and applied == []
    out = micropython.run(open(HERE / "bus_link_case.py").read(), extra_path=[HERE], timeout=120)
    assert json.loads(out.strip().splitlines()[-1]) == [requests, answers, errors, True, []]

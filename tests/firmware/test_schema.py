"""The shared schema validator gives the same verdicts on the real MicroPython binary and on CPython."""

import json
from pathlib import Path

import chargeschema
import pytest
from chargeschema import Invalid
from schema_case import CHECKS, FIELDS

HERE = Path(__file__).parent

CASES = [
    ({"name": "cp1"}, None),
    ({"max_a": 16}, {"name": "required"}),
    ({"name": "cp1", "max_a": 5}, {"max_a": "must be >= 6 A"}),
    ({"name": "cp1", "max_a": True}, {"max_a": "must be an integer"}),
    ({"name": "", "rcm": 1}, {"name": "must have at least 1 characters", "rcm": "must be true or false"}),
    ({"name": "x", "bogus": 1}, {"bogus": "unknown field"}),
    ({"name": "x", "min_a": 20, "max_a": 10}, {"min_a": "must not exceed max_a"}),
    ({"name": "x", "rules": [{"event": "sometimes"}]}, {"rules[0].event": "must be one of never, always"}),
    ({"name": "x", "rules": [{}, {}, {}]}, {"rules": "at most 2 entries"}),
]


def verdict(data):
    try:
        return chargeschema.validate(FIELDS, data, CHECKS), None
    except Invalid as e:
        return None, e.errors


@pytest.mark.parametrize("data,errors", CASES)
def test_cpython_verdicts(data, errors):
    clean, got = verdict(data)
    assert got == errors
    if errors is None:
        assert clean["max_a"] == data.get("max_a", 16) and clean["rules"] == []


def test_partial_update_keeps_base():
    base = chargeschema.validate(FIELDS, {"name": "cp1", "max_a": 32})
    assert chargeschema.validate(FIELDS, {"min_a": 10}, CHECKS, base=base)["max_a"] == 32
    with pytest.raises(Invalid):
        chargeschema.validate(FIELDS, {"min_a": 40}, CHECKS, base=base)


def test_canonical_is_sorted_and_stable():
    assert chargeschema.canonical({"b": [1, True, None], "a": 'q"'}) == '{"a":"q\\"","b":[1,true,null]}'
    doc = {"z": {"y": 1, "x": [False, "é"]}, "a": -3}
    assert json.loads(chargeschema.canonical(doc)) == doc


def test_same_verdicts_on_micropython(micropython):
    script = (
        "import json, chargeschema\n"
        "from schema_case import FIELDS, CHECKS\n"
        "for data in json.loads(%r):\n"
        "    try:\n"
        "        chargeschema.validate(FIELDS, data, CHECKS); print('null')\n"
        "    except chargeschema.Invalid as e:\n"
        "        print(chargeschema.canonical(e.errors))\n"
        "print(chargeschema.canonical({'b': [1, True, None], 'a': 'q'}))\n"
    ) % json.dumps([c[0] for c in CASES])
    lines = micropython.run(script, extra_path=[HERE]).splitlines()
    assert [json.loads(line) for line in lines[:-1]] == [c[1] for c in CASES]
    assert lines[-1] == '{"a":"q","b":[1,true,null]}'

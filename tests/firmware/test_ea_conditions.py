"""Every Event Action condition of the manual answers right, on CPython and on the micropython binary."""

from pathlib import Path

import ea_case

HERE = Path(__file__).parent


def test_every_condition_on_cpython():
    assert ea_case.failures() == []


def test_every_condition_on_micropython(micropython):
    out = micropython.run("import ea_case\nprint(ea_case.failures())", extra_path=[HERE])
    assert out.strip() == "[]"

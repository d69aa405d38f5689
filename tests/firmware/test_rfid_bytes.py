"""The RFID driver against bytes, on CPython and on the real micropython binary (checks in rfid_case.py)."""

from pathlib import Path

import pytest
import rfid_case

HERE = Path(__file__).parent


@pytest.mark.parametrize("check", rfid_case.CHECKS, ids=lambda c: c.__name__)
def test_on_cpython(check):
    check()


def test_on_micropython(micropython):
    out = micropython.run("import rfid_case\nprint(rfid_case.run_all())", extra_path=[HERE])
    assert out.strip() == repr([c.__name__ for c in rfid_case.CHECKS])


def test_polling_allocates_nothing_on_micropython(micropython):
    out = micropython.run(
        "import rfid_case\nprint(rfid_case.polling_without_allocation(5000))", extra_path=[HERE]
    )
    assert out.strip() == "0"

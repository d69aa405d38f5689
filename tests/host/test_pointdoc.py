"""docs/point-api.md's command tables are the firmware's handler tables (generated, never hand-kept)."""

from __future__ import annotations

from pathlib import Path

from chargepark.pointdoc import MARK, TABLES, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "point-api.md"


def test_point_api_command_tables_are_current() -> None:
    text = DOC.read_text()
    for key, table in TABLES.items():
        begin, end = MARK % (key, "begin"), MARK % (key, "end")
        committed = text[text.index(begin) : text.index(end) + len(end) + 1]
        assert committed == render(table, key), "run: python -m chargepark.pointdoc docs/point-api.md"


def test_every_command_has_a_row_with_its_arguments() -> None:
    for key, table in TABLES.items():
        rendered = render(table, key)
        for name in table.names():
            assert "| `%s` |" % name in rendered
            for f in table.fields(name):
                assert "`%s`" % f.name in rendered

"""docs/network.md: a row for every field of the network area (and nothing else), every modem status field
with its source, and the committed tables as `python -m chargepark.network.docs docs/network.md` renders them."""

from __future__ import annotations

from pathlib import Path

from chargepark.cli import build_parser
from chargepark.network import docs, modem

DOC = Path(__file__).resolve().parents[2] / "docs" / "network.md"


def test_every_network_field_has_its_linux_setting_and_no_row_is_left_over() -> None:
    assert set(docs.SETTINGS) == set(docs.field_paths())


def test_every_modem_status_field_has_its_source() -> None:
    assert set(docs.MODEM_SOURCES) == set(modem.FIELDS)


def test_docs_network_md_is_current() -> None:
    text = DOC.read_text()
    generated = text[text.index(docs.BEGIN) : text.index(docs.END) + len(docs.END) + 1]
    assert generated == docs.render(), "stale: python -m chargepark.network.docs docs/network.md"


def test_the_network_command_is_wired() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert "network" in sub.choices  # type: ignore[operator]
    args = build_parser().parse_args(["network", "apply", "--dry-run", "--root", "/tmp/r"])
    assert args.dry_run and str(args.root) == "/tmp/r"

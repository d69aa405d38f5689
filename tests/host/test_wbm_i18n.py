"""The WBM's translations: every shown string is in both catalogs and translated, the templates hold no
text outside gettext, every refusal message the configuration schema produces has a translated template,
and the language choice persists in the browser's cookie."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import chargeschema as cs
import httpx
import pointconfig
import pytest
from chargepark.services.web_server import pages
from chargepark.wbm.app import create_app
from chargepark.web import catalogs, i18n, messages

from tests.host.wbmkit import make_ctx, served

TEMPLATES = Path(catalogs.WEB) / "templates"
# Visible text that is no language: the product's name, units.
SAME_IN_GERMAN = {"Dashboard", "Status", "Name", "Version", "Station", "offline", "Event Actions", "OCPP"}
NOT_WORDS = {"chargepark", "kW", "kWh", "NTP", "A", "-"}


@pytest.mark.parametrize("lang", sorted(i18n.LANGS))
def test_every_shown_string_is_translated(lang: str) -> None:
    table = i18n.catalog(lang)
    missing = sorted(m for m in catalogs.msgids() if not table.get(m))
    assert not missing, "untranslated in %s (run python -m chargepark.web.catalogs, then translate): %s" % (
        lang,
        missing,
    )


def test_german_is_german() -> None:
    de = i18n.catalog("de")
    assert de["Dashboard"] and de["Charging Stations"] == "Ladestationen"
    same = [m for m in catalogs.static_msgids() if de[m] == m and m not in SAME_IN_GERMAN]
    assert not same, "German equals the English msgid: %s" % same


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_data(self, data: str) -> None:
        self.found += [w for w in re.findall(r"[^\s()\[\]:,.|]+", data) if re.search("[A-Za-z]", w)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("title", "placeholder", "alt", "aria-label") and value:
                self.handle_data(value)


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_hold_no_text_outside_gettext(template: str) -> None:
    source = (TEMPLATES / template).read_text()
    # Jinja's own syntax is not shown; what is left between the tags is what the browser shows.
    bare = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", source, flags=re.S)
    bare = re.sub(r"<(script|style)\b.*?</\1>", " ", bare, flags=re.S)
    parser = _Text()
    parser.feed(bare)
    assert [w for w in parser.found if w not in NOT_WORDS] == []


def _schema_messages() -> set[str]:
    """What the charging point schema answers for a wrong value of each field, and its cross checks."""
    out: set[str] = set()
    bad: dict[int, list[object]] = {cs.INT: ["x", -10**6, 10**9], cs.STR: [5, "x" * 500], cs.BOOL: ["x"],
                                    cs.ENUM: ["nonsense"], cs.LIST: ["x", [0] * 99]}  # fmt: skip
    for f in pointconfig.FIELDS:
        for value in bad.get(f.kind, []):
            try:
                cs.validate(pointconfig.FIELDS, {f.name: value}, pointconfig.CHECKS)
            except cs.Invalid as e:
                out.update(e.errors.values())
    crossed = ({"min_current_a": 20, "max_current_a": 10}, {"fallback_current_a": 30, "max_current_a": 16},
               {"temp_sensor": "pt1000", "derating_start_temp_c": 70, "derating_stop_temp_c": 60},
               {"temp_sensor": "pt1000", "derating_start_current_a": 6, "derating_stop_current_a": 10},
               {"event_actions": [{"event": "di_rising", "event_input": 9}]}, {"unknown_field": 1})  # fmt: skip
    for record in crossed:
        try:
            cs.validate(pointconfig.FIELDS, record, pointconfig.CHECKS)
        except cs.Invalid as e:
            out.update(e.errors.values())
    return out


def test_every_schema_message_has_a_translated_template() -> None:
    found = _schema_messages()
    assert len(found) >= 8
    german = i18n.gettext_of("de")
    untranslated = sorted(m for m in found if messages.translate(m, german) == m)
    assert not untranslated
    assert messages.translate("must be <= 80 A", german) == "muss <= 80 A sein"


def test_the_language_choice_persists_per_browser(tmp_path: Path) -> None:
    app = create_app(make_ctx(tmp_path))
    pages.install(app)
    with served(app) as base, httpx.Client(base_url=base, timeout=30, follow_redirects=True) as browser:
        assert ">Charging Stations<" not in browser.get("/wbm/").text  # a guest sees no such page
        assert "Total power" in browser.get("/wbm/").text
        r = browser.get("/wbm/lang/de", params={"next": "/wbm/login"})
        assert r.url.path == "/wbm/login" and "Passwort" in r.text
        assert "Gesamtleistung" in browser.get("/wbm/").text  # the cookie keeps it
        assert browser.cookies[i18n.COOKIE] == "de"
        assert "Total power" in browser.get("/wbm/lang/en").text
        # without a choice: the browser's Accept-Language
        assert (
            "Gesamtleistung" in httpx.get(base + "/wbm/", headers={"accept-language": "de-DE,de;q=0.9"}).text
        )

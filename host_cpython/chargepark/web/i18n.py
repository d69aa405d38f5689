"""The WBM's languages: Babel gettext catalogs (`i18n/<lang>/LC_MESSAGES/messages.po`, read as they are:
no compile step) and the browser's choice (a cookie, so it persists per browser)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.resources import files

from babel.messages.pofile import read_po

LANGS = {"en": "English", "de": "Deutsch"}  # language code -> its own name (never translated)
DEFAULT = "en"
COOKIE = "chargepark_lang"


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> msgstr of one language (empty translations left out: gettext then answers the msgid)."""
    path = files("chargepark.web").joinpath("i18n", lang, "LC_MESSAGES", "messages.po")
    with path.open("rb") as f:
        po = read_po(f, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def gettext_of(lang: str) -> Callable[[str], str]:
    table = catalog(lang if lang in LANGS else DEFAULT)

    def gettext(message: str) -> str:
        return table.get(message, message)

    return gettext


def choose(cookie: str | None, accept_language: str) -> str:
    """The browser's stored choice, else the first language of its Accept-Language we have."""
    if cookie in LANGS:
        return str(cookie)
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return DEFAULT

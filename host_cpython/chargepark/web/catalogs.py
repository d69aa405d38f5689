"""Every string the WBM shows, for the catalogs: the templates' and page routes' gettext calls (Babel's
extractors) and the texts that come from tables (statuses, roles, the schema's labels and choices, the
status page's groups, the API's message templates). `python -m chargepark.web.catalogs` adds the missing
ones to each catalog (keeping the translations); `tests/host/test_wbm_i18n.py` fails on any untranslated."""

from __future__ import annotations

import sys
from pathlib import Path

import chargedefs as cd
import pointconfig
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from chargepark.auth.roles import Role
from chargepark.config.areas import AREAS
from chargepark.services.web_server import pages, pages_loadmgmt
from chargepark.wbm.groups import GROUPS
from chargepark.web import bridgeform, eventactions, forms, i18n, messages, modbusform, netform, status

WEB = Path(__file__).parent
# Values the pages pass through gettext that no table above names (park roles, bus and service states,
# the calibration law checks' scopes).
STATES = ("server", "client", "standalone", "online", "offline", "running", "stopped", "starting",
          "restarting", "disabled", "backoff", "not installed", "on", "off", "Not configured",
          "system", "point", "ocpp")  # fmt: skip


def static_msgids() -> set[str]:
    found: set[str] = set()
    for root, method in (("templates", "jinja2"),):
        for _, _, msg, _, _ in extract_from_dir(str(WEB / root), [("**.html", method)]):
            found.add(msg if isinstance(msg, str) else msg[0])
    src = WEB.parent / "services" / "web_server"
    for _, _, msg, _, _ in extract_from_dir(str(src), [("pages*.py", "python")], keywords={"gettext": None}):
        found.add(msg if isinstance(msg, str) else msg[0])
    return found


def table_msgids() -> set[str]:
    ids: set[str] = set(cd.STATUSES) | {r.name.lower() for r in Role} | set(STATES) | set(messages.TEMPLATES)
    ids |= {title for _, title, _ in pages.NAV} | {name for name, _ in pages.OPERATIONS} | {status.NA}
    for title, names in forms.GROUPS:
        ids.add(title)
        for n in names:
            f = forms.BY_NAME[n]
            ids.add(f.doc)
            ids.update(str(c) for c in f.choices or ())
    ids |= pages_loadmgmt.msgids()
    ids |= eventactions.msgids()
    for title, rows in status.groups({}, {}, {"hlc": "optional", "meter_type": "em24"}):
        ids.add(title)
        ids.update(label for label, _ in rows)
    ids |= set(status.LIMIT_TEXT.values())
    ids |= netform.msgids()  # the network pages' labels (the network area's schema)
    ids |= modbusform.msgids()  # the Modbus page's (the modbus area's schema)
    ids |= bridgeform.msgids()  # the MQTT Bridge page's (the mqtt_bridge area's schema)
    ids |= {f.doc for f in AREAS["ocpp"].fields}  # the OCPP page's settings and Servervariables
    ids |= {title for title, _ in GROUPS.values()}  # the Import/Export page's sub-registers
    assert pointconfig.FIELDS  # the schema the form is built from
    return ids


def msgids() -> set[str]:
    return static_msgids() | table_msgids()


def po_path(lang: str) -> Path:
    return WEB / "i18n" / lang / "LC_MESSAGES" / "messages.po"


def update() -> None:
    want = msgids()
    for lang in i18n.LANGS:
        path = po_path(lang)
        old = read_po(path.open("rb"), locale=lang) if path.exists() else Catalog(locale=lang)
        cat = Catalog(locale=lang, project="chargepark WBM")
        for mid in sorted(want):
            prev = old.get(mid)
            cat.add(mid, prev.string if prev is not None else (mid if lang == "en" else ""))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, cat, width=0, omit_header=False, sort_output=True)


if __name__ == "__main__":
    update()
    sys.exit(0)

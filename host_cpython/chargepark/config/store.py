"""The configuration store: one SQLite file (WAL, synchronous=FULL) shared by all head services.

Every write is validated in full before anything is written (the record's schema and checks, then the
park-wide rules on the configuration as it would be), and is one transaction: a `kill -9` at any moment
leaves either the old or the new configuration, and a write that returned is on disk. A store that is
corrupt, of an unknown version, or holds a record that fails its schema is refused at open with
`StoreError`, which names the problems and the way out; it is never reset silently.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import chargeschema

from chargepark import configpush
from chargepark.config import migrations, parkrules
from chargepark.config.areas import AREAS, Area, area

Record = dict[str, Any]
Change = tuple[str, str | None, Record | None]  # (area, key, new record or None = delete)
_SINGLE = ""  # the row key of a singleton area


class StoreError(Exception):
    """The store cannot be used as it is. `problems` lists what is wrong, `remedy` the way out."""

    def __init__(self, path: Path, what: str, problems: Iterable[str] = ()) -> None:
        self.path = path
        self.problems = list(problems)
        self.remedy = (
            f"Way out: restore an export with `chargepark config restore --store {path} EXPORT.json`, "
            f"or go back to factory defaults with `chargepark config reset --store {path}`; both keep the "
            f"refused file as {path}.refused-<time>. `chargepark config salvage --store {path}` exports the "
            "records that are still intact."
        )
        shown = self.problems[:10] + (
            ["... %d more" % (len(self.problems) - 10)] if len(self.problems) > 10 else []
        )
        super().__init__(
            "\n".join(["configuration store %s refused: %s" % (path, what), *shown, self.remedy])
        )


def _dump(record: Any) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _path_of(a: str, key: str | None, path: str) -> str:
    head = a if key is None else "%s[%s]" % (a, key)
    return head + "." + path if path else head


class ConfigStore:
    """Open with `ConfigStore.open(path)`. One instance per process; safe to share between threads."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self._db = db
        self._lock = threading.RLock()
        self._state: dict[str, Any] = {}
        self._seen = -1  # PRAGMA data_version of the cached state
        self._listeners: list[Callable[[set[str]], None]] = []

    # ---- opening ----------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> ConfigStore:
        """Open (or create) the store at `path`; migrate an older layout; refuse a bad one."""
        path = Path(path)
        try:
            db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
        except sqlite3.Error as exc:
            raise StoreError(path, "cannot open: %s" % exc) from exc
        try:
            store = cls(path, db)
            store._prepare()
            store._verify()
        except StoreError:
            db.close()
            raise
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # SQLite may report damage in bad UTF-8
            db.close()
            raise StoreError(path, "the file is corrupt or not a chargepark store (%s)" % exc) from exc
        return store

    def close(self) -> None:
        self._db.close()

    def _prepare(self) -> None:
        db = self._db
        # The full check (indexes against tables too); the store is small, this takes milliseconds.
        found = [r[0] for r in db.execute("PRAGMA integrity_check")]
        if found != ["ok"]:
            raise StoreError(self.path, "SQLite integrity check failed", found)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives power loss too
        self._backup_before_migration()
        db.execute("BEGIN IMMEDIATE")
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:  # a new file, or a creation that was killed before its commit
                migrations.create(db)
            else:
                self._check_version(tables)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _check_version(self, tables: set[str]) -> None:
        meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall()) if "meta" in tables else {}
        if meta.get("format") != migrations.FORMAT:
            raise StoreError(
                self.path, "not a chargepark configuration store (tables: %s)" % ", ".join(sorted(tables))
            )
        text = meta.get("version", "")
        version = int(text) if text.isascii() and text.isdigit() else 0
        if version > migrations.VERSION:
            raise StoreError(
                self.path,
                "store version %d was written by a newer chargepark; this one knows versions up to %d"
                % (version, migrations.VERSION),
            )
        if version < 1:
            raise StoreError(self.path, "unknown store version %r" % meta.get("version"))
        if version < migrations.VERSION:
            migrations.migrate(self._db, version)

    def _backup_before_migration(self) -> None:
        """Copy an older store to PATH.v<version> before it is migrated (outside any transaction: the
        backup API cannot read through a connection that holds the write lock)."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
        except sqlite3.OperationalError:  # no meta table: a new or foreign file, judged later
            return
        if row is not None and row[0].isdigit() and 1 <= int(row[0]) < migrations.VERSION:
            copy_db = sqlite3.connect(str(self.path.with_name(self.path.name + ".v" + row[0])))
            try:
                self._db.backup(copy_db)
            finally:
                copy_db.close()

    def _verify(self) -> None:
        """Every record must be intact (CRC), known, and valid under its schema and the park rules."""
        problems: list[str] = []
        rows = self._db.execute("SELECT area, key, body, crc FROM records ORDER BY area, key").fetchall()
        for a, key, body, crc in rows:
            if not (
                isinstance(a, str) and isinstance(key, str) and isinstance(body, str) and isinstance(crc, int)
            ):
                problems.append("records: a row of the wrong type (the file is damaged)")
                continue
            where = _path_of(a, key or None, "")
            if crc != migrations.crc(a, key, body):
                problems.append("%s: checksum mismatch (the record is damaged)" % where)
                continue
            if a not in AREAS:
                problems.append("%s: unknown area" % where)
                continue
            try:
                AREAS[a].validate(json.loads(body))
            except ValueError as exc:  # json.JSONDecodeError and chargeschema.Invalid
                problems.append("%s: %s" % (where, exc))
        if not problems:
            problems = [
                "%s: %s" % (_path_of(a, k, p), why) for a, k, p, why in parkrules.problems(self._load())
            ]
        if problems:
            raise StoreError(self.path, "%d bad record(s)" % len(problems), problems)

    # ---- reading ----------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        """The whole configuration, cached until another connection commits (PRAGMA data_version)."""
        seen = self._db.execute("PRAGMA data_version").fetchone()[0]
        if seen != self._seen:
            state: dict[str, Any] = {a.name: ({} if a.keyed else a.defaults()) for a in AREAS.values()}
            for a, key, body in self._db.execute("SELECT area, key, body FROM records"):
                spec = AREAS[a]
                record = {**spec.defaults(), **json.loads(body)}  # fields added since it was written
                if spec.keyed:
                    state[a][key] = record
                else:
                    state[a] = record
            self._state, self._seen = state, seen
        return self._state

    def get(self, area_name: str, key: str | None = None) -> Any:
        """A singleton's record (its defaults until saved); a keyed area's record for `key` (None when
        there is none), or with `key=None` all its records as {key: record}."""
        spec = area(area_name)
        with self._lock:
            current = self._load()[area_name]
            if spec.keyed and key is not None:
                current = current.get(key)
            return copy.deepcopy(current)

    def keys(self, area_name: str) -> list[str]:
        with self._lock:
            return sorted(self._load()[area(area_name).name])

    def versions(self) -> dict[str, int]:
        """Change counter per area: it grows with every committed change. Each commit publishes the new
        counters of the changed areas to a head running on this store (`chargepark.configpush`);
        `subscribe` reports this process's own commits at once."""
        with self._lock:
            counts = dict(self._db.execute("SELECT area, version FROM versions").fetchall())
        return {a: counts.get(a, 0) for a in AREAS}

    def subscribe(self, listener: Callable[[set[str]], None]) -> None:
        """Call `listener(changed area names)` after each commit made through this instance."""
        self._listeners.append(listener)

    # ---- writing ----------------------------------------------------------------------------------

    def put(self, area_name: str, data: Any, key: str | None = None) -> Record:
        """Save `data` merged over the current record (a new keyed record starts from the defaults).
        Returns the saved record. Raises `chargeschema.Invalid` (field paths relative to this record; paths
        of other records are qualified, e.g. `modbus.start_addresses[0].start`); nothing is applied."""
        spec = self._keyed_as_called(area_name, key)

        def build(state: dict[str, Any]) -> list[Change]:
            base = state[area_name].get(key) if spec.keyed else state[area_name]
            return [(area_name, key, spec.validate(data, base))]

        self._commit(build, own=(area_name, key))
        saved = self.get(area_name, key)
        assert saved is not None
        return dict(saved)

    def delete(self, area_name: str, key: str | None = None) -> None:
        """Back to factory defaults: a singleton reads as its defaults, a keyed record disappears (an
        unconfigured charging point)."""
        self._keyed_as_called(area_name, key)
        self._commit(lambda state: [(area_name, key, None)], own=(area_name, key))

    def apply(self, changes: list[Change]) -> None:
        """Several puts (whole records, not merged) and deletes as one validated transaction."""
        for a, key, _ in changes:
            self._keyed_as_called(a, key)

        def build(state: dict[str, Any]) -> list[Change]:
            out: list[Change] = []
            errors: dict[str, str] = {}
            for a, key, record in changes:
                try:
                    out.append((a, key, None if record is None else AREAS[a].validate(record)))
                except chargeschema.Invalid as exc:
                    errors.update({_path_of(a, key, p): why for p, why in exc.errors.items()})
            if errors:
                raise chargeschema.Invalid(errors)
            return out

        self._commit(build)

    def factory_reset(self, area_names: Iterable[str] | None = None) -> None:
        """Every configuration area (or the named ones) back to factory defaults."""
        names = list(AREAS) if area_names is None else [area(n).name for n in area_names]

        def build(state: dict[str, Any]) -> list[Change]:
            out: list[Change] = []
            for n in names:
                out += [(n, k, None) for k in state[n]] if AREAS[n].keyed else [(n, None, None)]
            return out

        self._commit(build)

    # ---- export and import ------------------------------------------------------------------------

    def export(self, area_name: str | None = None, key: str | None = None) -> dict[str, Any]:
        """A JSON-ready document of the whole configuration, one area, or one record of a keyed area.
        Singletons are exported with their effective values (defaults included)."""
        if area_name is None:
            names = list(AREAS)
        else:
            self._keyed_as_called(area_name, key, key_optional=True)
            names = [area_name]
        with self._lock:
            state = self._load()
            areas = {n: copy.deepcopy(state[n]) for n in names}
        if key is not None and area_name is not None:
            if key not in areas[area_name]:
                raise KeyError("%s has no record %r" % (area_name, key))
            areas[area_name] = {key: areas[area_name][key]}
        return {"format": migrations.FORMAT, "version": migrations.VERSION, "areas": areas}

    def validate_document(self, doc: Any, replace: bool = False) -> dict[str, str]:
        """The errors (path -> reason) that `import_(doc, replace)` would raise; {} if it would succeed."""
        with self._lock:
            state = copy.deepcopy(self._load())
        try:
            changes = _document_changes(doc, state, replace)
            _apply_and_check(state, changes, own=None)
        except chargeschema.Invalid as exc:
            return dict(exc.errors)
        return {}

    def import_(self, doc: Any, replace: bool = False) -> None:
        """Import an `export` document. Each record in it is taken whole (missing fields = defaults).
        Keyed areas: its records are added or overwrite the same keys; with `replace`, records of that
        area missing from the document are deleted. Areas absent from the document are untouched. The
        document is validated as a whole first (`chargeschema.Invalid` with qualified paths); nothing is
        applied on error."""
        self._commit(lambda state: _document_changes(doc, state, replace))

    # ---- internals --------------------------------------------------------------------------------

    def _keyed_as_called(self, area_name: str, key: str | None, key_optional: bool = False) -> Area:
        spec = area(area_name)
        if key is None and (key_optional or not spec.keyed):
            return spec
        problem = spec.key_problem(key) if spec.keyed else "this area has no keys"
        if key is None:
            problem = "a key (%s) is required" % spec.key
        if problem:
            raise chargeschema.Invalid({"key": problem})
        return spec

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _commit(
        self, build: Callable[[dict[str, Any]], list[Change]], own: tuple[str, str | None] | None = None
    ) -> None:
        with self._lock:
            with self._transaction():
                state = copy.copy(self._load())  # areas are replaced, never edited in place
                changes = build(state)
                touched = _apply_and_check(state, changes, own)
                for a, key, record in changes:
                    row_key = _SINGLE if key is None else key
                    if record is None:
                        self._db.execute("DELETE FROM records WHERE area = ? AND key = ?", (a, row_key))
                    else:
                        body = _dump(record)
                        self._db.execute(
                            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                            (a, row_key, body, migrations.crc(a, row_key, body)),
                        )
                versions: dict[str, int] = {}
                for a in touched:
                    versions[a] = self._db.execute(
                        "INSERT INTO versions VALUES (?, 1) ON CONFLICT (area) DO UPDATE SET version = version + 1"
                        " RETURNING version",
                        (a,),
                    ).fetchone()[0]
            self._state = state  # our own commit does not move PRAGMA data_version
        configpush.announce(self.path, versions)
        for listener in list(self._listeners):
            listener(touched)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (or ROLLBACK on any error): the write lock is taken before reading,
    so a merge and the park-wide checks see what the commit replaces."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise
        self._db.execute("ROLLBACK")


def _apply_and_check(
    state: dict[str, Any], changes: list[Change], own: tuple[str, str | None] | None
) -> set[str]:
    """Apply `changes` to `state` (a shallow copy: touched areas are copied) and check the park rules and
    item limits. Errors on the `own` record keep relative paths, others are qualified."""
    touched: set[str] = set()
    for a, key, record in changes:
        spec = AREAS[a]
        if spec.keyed:
            if a not in touched:
                state[a] = dict(state[a])
            if record is None:
                state[a].pop(key, None)
            else:
                state[a][key] = record
        else:
            state[a] = spec.defaults() if record is None else record
        touched.add(a)
    errors: dict[str, str] = {}
    for a in touched:
        limit = AREAS[a].max_items
        if limit is not None and len(state[a]) > limit:
            errors[a] = "at most %d entries" % limit
    changed = frozenset((a, key) for a, key, _ in changes)
    for a, key, path, why in parkrules.problems(state, changed):
        if own == (a, key):
            errors[path or "."] = why
        else:
            errors[_path_of(a, key, path)] = why
    if errors:
        raise chargeschema.Invalid(errors)
    return touched


def _document_changes(doc: Any, state: dict[str, Any], replace: bool) -> list[Change]:
    if not isinstance(doc, dict) or doc.get("format") != migrations.FORMAT:
        raise chargeschema.Invalid(
            {"format": "not a chargepark configuration export (format %r)" % migrations.FORMAT}
        )
    version = doc.get("version")
    if not isinstance(version, int) or not 1 <= version <= migrations.VERSION:
        raise chargeschema.Invalid(
            {
                "version": "unknown export version %r (this chargepark reads 1..%d)"
                % (version, migrations.VERSION)
            }
        )
    areas = doc.get("areas")
    if not isinstance(areas, dict):
        raise chargeschema.Invalid({"areas": "must be an object of area -> records"})
    changes: list[Change] = []
    errors: dict[str, str] = {}
    for a, content in areas.items():
        if a not in AREAS:
            errors[str(a)] = "unknown area"
            continue
        spec = AREAS[a]
        records = content if spec.keyed else {None: content}
        if not isinstance(records, dict):
            errors[a] = "must be an object of key -> record"
            continue
        for key, record in records.items():
            problem = spec.key_problem(key)
            if problem:
                errors[_path_of(a, str(key), "")] = problem
                continue
            try:
                changes.append((a, key, spec.validate(migrations.upgrade(a, record, version))))
            except chargeschema.Invalid as exc:
                errors.update({_path_of(a, key, p): why for p, why in exc.errors.items()})
        if spec.keyed and replace:
            changes += [(a, k, None) for k in state[a] if k not in records]
    if errors:
        raise chargeschema.Invalid(errors)
    return changes


def set_aside(path: str | Path) -> Path:
    """Rename a refused store (with its -wal and -shm files) out of the way; returns the new name."""
    path = Path(path)
    target = path.with_name("%s.refused-%s" % (path.name, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())))
    for suffix in ("", "-wal", "-shm"):
        part = Path(str(path) + suffix)
        if part.exists():
            part.rename(Path(str(target) + suffix))
    return target


def salvage(path: str | Path) -> tuple[dict[str, Any], list[str]]:
    """From a refused store, the records that are intact and valid on their own, as an export document
    (park-wide rules are checked again when it is imported), and what was left out."""
    areas: dict[str, Any] = {}
    problems: list[str] = []
    try:
        db = sqlite3.connect("file:%s?mode=ro" % Path(path).resolve(), uri=True)
        try:
            columns = {r[1] for r in db.execute("PRAGMA table_info(records)")}
            query = "SELECT area, key, body, %s FROM records" % ("crc" if "crc" in columns else "NULL")
            rows = db.execute(query).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return {"format": migrations.FORMAT, "version": migrations.VERSION, "areas": {}}, [
            "unreadable: %s" % exc
        ]
    for a, key, body, crc in rows:
        where = _path_of(a, key or None, "")
        try:
            if crc is not None and crc != migrations.crc(a, key, body):
                raise ValueError("checksum mismatch")
            if a not in AREAS:
                raise ValueError("unknown area")
            record = AREAS[a].validate(json.loads(body))
        except ValueError as exc:
            problems.append("%s: left out (%s)" % (where, exc))
            continue
        if AREAS[a].keyed:
            areas.setdefault(a, {})[key] = record
        else:
            areas[a] = record
    return {"format": migrations.FORMAT, "version": migrations.VERSION, "areas": areas}, problems

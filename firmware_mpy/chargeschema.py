"""Configuration schemas as data, and their validator.

One schema per configuration area is the single source for validation on the head and on the IO module,
for defaults, for import/export and for documentation. Written in the common subset of MicroPython and
CPython: a schema is a tuple of `Field`s, values are plain ints, bools, strings and lists of dicts.
"""

INT = "int"
BOOL = "bool"
STR = "str"
ENUM = "enum"
LIST = "list"
INTS = "ints"  # a list of integers, each within lo..hi
ANY = "any"  # passed on as it is: whoever receives it validates it with its own schema


class Field:
    """One configuration field.

    `lo`/`hi` bound an int (inclusive), the length of a str, or the number of items of a list. `choices`
    lists the values an enum accepts. `item` is the schema of each list entry. `module` tells whether the
    IO module needs the field (the head sends only those over the bus). `rest` is the field's CHARX
    JupiCore REST name where it has one. `wbm_only` marks a WBM setting that the area's protocol does not
    expose (an OCPP field that is no OCPP configuration key).
    """

    # The defaults live on the class and an instance stores only what it sets: a module holds ~100
    # Fields in RAM, and a smaller attribute table saves about 30 % of each (docs/porting.md "Memory budget").
    lo = None
    hi = None
    choices = None
    unit = ""
    doc = ""
    module = False
    item = None
    rest = ""
    wbm_only = False

    def __init__(
        self,
        name,
        kind,
        default,
        lo=None,
        hi=None,
        choices=None,
        unit="",
        doc="",
        module=False,
        item=None,
        rest="",
        wbm_only=False,
    ):
        self.name = name
        self.kind = kind
        self.default = default
        if lo is not None:
            self.lo = lo
        if hi is not None:
            self.hi = hi
        if choices is not None:
            self.choices = choices
        if unit:
            self.unit = unit
        if doc:
            self.doc = doc
        if module:
            self.module = module
        if item is not None:
            self.item = item
        if rest:
            self.rest = rest
        if wbm_only:
            self.wbm_only = wbm_only


class Invalid(ValueError):
    """A configuration was refused; `errors` maps field path -> reason."""

    def __init__(self, errors):
        super().__init__("; ".join("%s: %s" % (k, errors[k]) for k in sorted(errors)))
        self.errors = errors


def defaults(fields):
    out = {}
    for f in fields:
        out[f.name] = list(f.default) if f.kind == LIST else f.default
    return out


def _check(f, value, path, errors):
    kind = f.kind
    if kind == BOOL:
        if value is not True and value is not False:
            errors[path] = "must be true or false"
        return value
    if kind == INT:
        if isinstance(value, bool) or not isinstance(value, int):
            errors[path] = "must be an integer"
        elif f.lo is not None and value < f.lo:
            errors[path] = "must be >= %d%s" % (f.lo, _unit(f))
        elif f.hi is not None and value > f.hi:
            errors[path] = "must be <= %d%s" % (f.hi, _unit(f))
        return value
    if kind == STR:
        if not isinstance(value, str):
            errors[path] = "must be a string"
        elif f.lo is not None and len(value) < f.lo:
            errors[path] = "must have at least %d characters" % f.lo
        elif f.hi is not None and len(value) > f.hi:
            errors[path] = "must have at most %d characters" % f.hi
        return value
    if kind == ENUM:
        if value not in f.choices:
            errors[path] = "must be one of %s" % ", ".join(str(c) for c in f.choices)
        return value
    if kind == ANY:
        return value
    if kind == INTS:
        if not isinstance(value, list):
            errors[path] = "must be a list of integers"
            return value
        for i in range(len(value)):
            item = Field(f.name, INT, 0, f.lo, f.hi, unit=f.unit)
            _check(item, value[i], "%s[%d]" % (path, i), errors)
        return value
    if kind == LIST:
        if not isinstance(value, list):
            errors[path] = "must be a list"
            return value
        if f.hi is not None and len(value) > f.hi:
            errors[path] = "at most %d entries" % f.hi
            return value
        clean = []
        for i, entry in enumerate(value):
            clean.append(_record(f.item, entry, "%s[%d]" % (path, i), errors, False))
        return clean
    errors[path] = "unknown field kind %s" % kind
    return value


def _unit(f):
    return " " + f.unit if f.unit else ""


def _record(fields, data, prefix, errors, partial, base=None):
    if not isinstance(data, dict):
        errors[prefix or "."] = "must be an object"
        return {}
    known = {}
    for f in fields:
        known[f.name] = f
    for key in data:
        if key not in known:
            errors[_join(prefix, key)] = "unknown field"
    out = {}
    for f in fields:
        path = _join(prefix, f.name)
        if f.name in data:
            out[f.name] = _check(f, data[f.name], path, errors)
        elif partial and base is not None and f.name in base:
            out[f.name] = base[f.name]
        else:
            out[f.name] = list(f.default) if f.kind == LIST else f.default
            # A field whose default is not a valid value (an empty name, say) must be given.
            missing = {}
            _check(f, f.default, path, missing)
            if missing:
                errors[path] = "required"
    return out


def _join(prefix, key):
    return prefix + "." + key if prefix else key


def validate(fields, data, checks=(), base=None):
    """Validate `data` against `fields` and the cross-field `checks`; return the complete clean record.

    Missing fields take their value from `base` (the current record, for partial updates) or the default.
    Raises `Invalid` with every field error at once; nothing is applied by the caller on error.
    """
    errors = {}
    clean = _record(fields, data, "", errors, base is not None, base)
    if not errors:
        for check in checks:
            problem = check(clean)
            if problem:
                errors[problem[0]] = problem[1]
    if errors:
        raise Invalid(errors)
    return clean


def canonical(value):
    """A stable text form (sorted keys, no spaces) for checksums; json.dumps lacks sort_keys on MicroPython."""
    parts = []
    _put(parts.append, value)
    return "".join(parts)


def canonical_crc32(value):
    """CRC-32 of canonical(value), fed in pieces of a few dozen bytes. A module computes it inside the bus's
    configuration step, where its heap peaks: the whole text (or the list of its pieces) would need one
    large block of a fragmented heap, and concatenating per value made 125 KB of garbage (64-bit)."""
    from binascii import crc32

    parts = []
    crc = 0

    def emit(piece):
        nonlocal crc
        parts.append(piece)
        if len(parts) == 32:  # a few dozen bytes of text
            crc = crc32("".join(parts).encode(), crc)
            del parts[:]

    _put(emit, value)
    return crc32("".join(parts).encode(), crc) & 0xFFFFFFFF


def _put(emit, value):
    if isinstance(value, dict):
        emit("{")
        sep = ""
        for k in sorted(value):
            emit(sep)
            _quote(emit, k)
            emit(":")
            _put(emit, value[k])
            sep = ","
        emit("}")
    elif isinstance(value, (list, tuple)):
        emit("[")
        sep = ""
        for v in value:
            emit(sep)
            _put(emit, v)
            sep = ","
        emit("]")
    elif value is True:
        emit("true")
    elif value is False:
        emit("false")
    elif value is None:
        emit("null")
    elif isinstance(value, str):
        _quote(emit, value)
    else:
        emit(str(value))


def _quote(emit, text):
    emit('"')
    for ch in text:
        if ch == '"' or ch == "\\" or ord(ch) < 0x20:
            break
    else:
        emit(text)  # nothing to escape (nearly always): no string per character
        emit('"')
        return
    for ch in text:
        if ch == '"' or ch == "\\":
            emit("\\" + ch)
        elif ord(ch) < 0x20:
            emit("\\u%04x" % ord(ch))
        else:
            emit(ch)
    emit('"')

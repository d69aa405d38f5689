"""Handler tables: a decorator files each handler under its name (the `ocpp` library's `@on` shape).

    COMMANDS = chargehandlers.Table()

    class Point:
        @COMMANDS.on("setpoint_ma", Field("ma", INT, 0, 0, 80000, unit="mA"))
        def _setpoint(self, ma): ...

    COMMANDS.call(point, "setpoint_ma", 16000)

A handler declares its arguments as `chargeschema.Field`s, so whoever holds the table (the module, the
head before it sends, the docs) validates and documents a call the same way. A call passes its
arguments as one value (one field), a list in field order, or a dict by field name.
Written in the common subset of MicroPython and CPython.
"""

import chargeschema


class Table:
    def __init__(self):
        self.entries = {}  # name -> (function, fields, doc, partial)

    def on(self, name, *fields, doc="", partial=False):
        """File the decorated function under `name`. `partial`: every field is optional, and the handler
        gets one dict of the fields given (a request that sets some values and leaves the rest)."""

        def file(fn):
            if name in self.entries:
                raise ValueError("two handlers for %s" % name)
            self.entries[name] = (fn, fields, doc, partial)
            return fn

        return file

    def handler(self, name):
        """The function filed under `name`, or None (for callers whose arguments are checked already)."""
        entry = self.entries.get(name)
        return entry[0] if entry is not None else None

    def names(self):
        return sorted(self.entries)

    def fields(self, name):
        return self._entry(name)[1]

    def doc(self, name):
        return self._entry(name)[2]

    def partial(self, name):
        return self._entry(name)[3]

    def args(self, name, value=None):
        """The validated arguments of `name` as a list in field order; ValueError names what is wrong."""
        entry = self._entry(name)
        fields = entry[1]
        if entry[3]:
            return [self._given(name, fields, value)]
        if not fields:
            if value is not None and value != [] and value != {}:
                raise ValueError("%s takes no value" % name)
            return []
        if isinstance(value, dict):
            data = value
        elif value is None:
            data = {}  # every field at its default
        elif len(fields) == 1:
            data = {fields[0].name: value}
        elif isinstance(value, (list, tuple)) and len(value) == len(fields):
            data = {}
            for i in range(len(fields)):
                data[fields[i].name] = value[i]
        else:
            raise ValueError("%s needs (%s)" % (name, ", ".join(f.name for f in fields)))
        try:
            clean = chargeschema.validate(fields, data)
        except chargeschema.Invalid as e:
            raise ValueError("%s: %s" % (name, e)) from None
        return [clean[f.name] for f in fields]

    def _given(self, name, fields, value):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ValueError("%s needs an object of any of (%s)" % (name, ", ".join(f.name for f in fields)))
        given = tuple(f for f in fields if f.name in value)
        for key in value:
            if not any(f.name == key for f in fields):
                raise ValueError("%s: %s: unknown field" % (name, key))
        try:
            return chargeschema.validate(given, value)
        except chargeschema.Invalid as e:
            raise ValueError("%s: %s" % (name, e)) from None

    def call(self, obj, name, value=None):
        """Validate, then run the handler as fn(obj, *args); returns what the handler returns."""
        args = self.args(name, value)
        return self._entry(name)[0](obj, *args)

    def _entry(self, name):
        entry = self.entries.get(name)
        if entry is None:
            raise ValueError("unknown command %s" % name)
        return entry

"""Runs the golden vectors (tests/vectors/*.json) against one chargecore backend module.

Common subset of MicroPython and CPython: the very same runner checks the twin on the `micropython` binary.
"""

from array import array


def _arg(a):
    if isinstance(a, dict):  # {"rle": [[code, count], ...]}: a window of raw ADC codes
        buf = array("H")
        for c, n in a["rle"]:
            buf.extend(array("H", [c] * n))
        return buf
    return a


def _show(args):
    return ", ".join("<window %d>" % len(a) if isinstance(a, array) else repr(a) for a in args)


def run_case(mod, case):
    """Failure messages for one case (empty when it passes)."""
    name = case["name"]
    if "raises" in case:
        cls, args = case["raises"]
        try:
            getattr(mod, cls)(*args)
        except ValueError:
            return []
        return ["%s: %s(%s) did not raise ValueError" % (name, cls, _show(args))]
    obj = None
    if "new" in case:
        obj = getattr(mod, case["new"][0])(*case["new"][1])
    fails = []
    for i, st in enumerate(case["steps"]):
        args = [_arg(a) for a in st["args"]]
        got = getattr(mod if obj is None else obj, st["call"])(*args)
        where = "%s, step %d: %s(%s)" % (name, i, st["call"], _show(args))
        if "ret" in st and got != st["ret"]:
            fails.append("%s returned %r, want %r" % (where, got, st["ret"]))
        for key in st.get("attrs", {}):
            have = getattr(obj, key)
            if have != st["attrs"][key]:
                fails.append("%s: .%s is %r, want %r" % (where, key, have, st["attrs"][key]))
    return fails


def run_vectors(mod, data):
    """(steps run, failures) for one vector file's parsed JSON."""
    steps = 0
    fails = []
    for case in data["cases"]:
        steps += len(case.get("steps", ())) or 1
        fails += run_case(mod, case)
    return steps, fails


def check_constants(mod, data):
    """Failures where the backend's constants differ from the golden ones."""
    fails = []
    for name in data["ints"]:
        have = getattr(mod, name, None)
        if have != data["ints"][name]:
            fails.append("constant %s is %r, want %r" % (name, have, data["ints"][name]))
    for name in data["tuples"]:
        have = getattr(mod, name, None)
        if have is None or list(have) != data["tuples"][name]:
            fails.append("constant %s is %r, want %r" % (name, have, data["tuples"][name]))
    return fails


def run_files(mod, paths, constants_path):
    """(steps run, failures) over vector files (paths) and the constants file: one call for every runner."""
    import json

    total = 0
    fails = []
    for path in paths:
        with open(path) as f:
            steps, more = run_vectors(mod, json.load(f))
        total += steps
        fails += more
    with open(constants_path) as f:
        fails += check_constants(mod, json.load(f))
    return total, fails

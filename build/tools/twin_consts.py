"""SCons tool: the twin's constants (firmware_mpy/chargecore/twin/consts.py) generated from the C headers.

Each header of core_c/include/chargecore/ lists its constants once as an X-macro, `CC_<AREA>_CONSTANTS(X)`
with entries `X(NAME, value)`; `CC_ALL_CONSTANTS` in chargecore.h gives their order. A list macro
`CC_<NAME>(X)` with entries `X(value)` fills the C array declared beside it (`cc_<name>_<unit>[]`) and
becomes the tuple `<NAME>_<UNIT>`, the name every binding exports. The output is committed because the
board runs it (`scons core` rewrites it; tests/core/test_twin_consts.py fails when it is stale).

`python build/tools/twin_consts.py` rewrites the file without scons.
"""

import os
import re

HEADERS = os.path.join("core_c", "include", "chargecore")
OUTPUT = os.path.join("firmware_mpy", "chargecore", "twin", "consts.py")

_MACRO = re.compile(r"^#define (CC_\w+)\(X\)(.*?)(?<!\\)$", re.M | re.S)
_PAIR = re.compile(r"X\((\w+),\s*(-?(?:0x[0-9A-Fa-f]+|\d+))\)")
_ITEM = re.compile(r"X\((-?\d+)\)")
_ANY_X = re.compile(r"X\(([^)]*)\)")
_ARRAY = re.compile(r"extern const int32_t (cc_\w+)\[\];")
_LEAD = re.compile(r"\A/\*\s*(.*?)\s*\*/", re.S)

PREAMBLE = '''"""Every named constant of the safety core, for the twin. GENERATED from core_c/include/chargecore/*.h by
build/tools/twin_consts.py (`scons core`): edit the headers, not this file. Units: mV, mA, ms, Ohm, milliohm,
tenths of a percent, tenths of a degree Celsius. Common subset of MicroPython and CPython."""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x
'''


def _macros(text):
    """{macro name: body} of every `#define CC_...(X)` in a header, continuation lines joined."""
    return {m.group(1): m.group(2).replace("\\\n", " ") for m in _MACRO.finditer(text)}


def _pairs(name, body):
    found = _PAIR.findall(body)
    if len(found) != len(_ANY_X.findall(body)):
        raise ValueError("%s: an entry is not X(NAME, integer literal)" % name)
    return found


def _section(path, text):
    lead = _LEAD.match(text)
    title = lead.group(1).split("\n")[0].strip() if lead else ""
    return "# --- %s: %s" % (os.path.basename(path), title)


def render(root):
    """The text of consts.py from the headers under `root` (the repository top)."""
    folder = os.path.join(root, HEADERS)
    headers = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".h"):
            with open(os.path.join(folder, name)) as f:
                headers[os.path.join(folder, name)] = f.read()
    macros = {}
    owner = {}
    for path, text in headers.items():
        for name, body in _macros(text).items():
            macros[name] = body
            owner[name] = path
    order = re.findall(r"(CC_\w+_CONSTANTS)\(X\)", macros["CC_ALL_CONSTANTS"])
    lists = [n for n in macros if n != "CC_ALL_CONSTANTS" and not n.endswith("_CONSTANTS")]
    out = [PREAMBLE]
    seen = set()
    for macro in order:
        path = owner[macro]
        out.append("")
        out.append(_section(path, headers[path]))
        for name, value in _pairs(macro, macros[macro]):
            if name in seen:
                raise ValueError("%s is defined twice" % name)
            seen.add(name)
            out.append("%s = const(%s)" % (name, value))
        for lst in lists:
            if owner[lst] == path:
                out.append(_tuple(lst, macros[lst], headers[path]))
    return "\n".join(out) + "\n"


def _tuple(macro, body, header):
    """`CC_OC_EVZE_STAGES(X) X(100) ...` beside `cc_oc_evze_stages_pct[]` -> `OC_EVZE_STAGES_PCT = (100, ...)`."""
    stem = macro.lower()
    arrays = [a for a in _ARRAY.findall(header) if a.startswith(stem + "_")]
    if len(arrays) != 1:
        raise ValueError("%s: no single C array cc_..._<unit>[] declared beside it" % macro)
    items = _ITEM.findall(body)
    if len(items) != len(_ANY_X.findall(body)) or not items:
        raise ValueError("%s: an entry is not X(integer literal)" % macro)
    return "%s = (%s)" % (arrays[0][3:].upper(), ", ".join(items))


def _write(target, source, env):
    text = render(env["TOP"])
    with open(str(target[0]), "w") as f:
        f.write(text)
    return None


def _twin_consts(env):
    target = env.Command(
        "#" + OUTPUT,
        env.Glob("#" + HEADERS + "/*.h"),
        env.Action(_write, "generate $$TARGET"),
    )
    env.Depends(target, "#build/tools/twin_consts.py")
    env.NoClean(target)  # committed: `scons -c` must not delete it
    env.Precious(target)
    return target


def generate(env):
    env.AddMethod(_twin_consts, "TwinConsts")


def exists(env):
    return True


if __name__ == "__main__":
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(top, OUTPUT), "w") as f:
        f.write(render(top))

"""cpscan.py compiled to machine code by the viper emitter (MicroPython only: `ptr16` and friends do not
exist on CPython). Same contract and results; the vectors run it on the real `micropython` binary."""

import micropython
from micropython import const

from chargecore.twin import cpscan

# Viper indexes with constants only: the io layout of cpscan.py, checked below.
_HS = const(2)
_HN = const(3)
_HMIN = const(4)
_HMAX = const(5)
_LS = const(6)
_LN = const(7)
_LMIN = const(8)
_LMAX = const(9)
_NHIGH = const(10)
_RISES = const(11)
_FIRST = const(12)
_LAST = const(13)
_CFIRST = const(14)
_CLAST = const(15)
_GLITCH = const(16)

if (
    _HS,
    _HN,
    _HMIN,
    _HMAX,
    _LS,
    _LN,
    _LMIN,
    _LMAX,
    _NHIGH,
    _RISES,
    _FIRST,
    _LAST,
    _CFIRST,
    _CLAST,
    _GLITCH,
) != tuple(range(cpscan.IO_HS, cpscan.IO_GLITCH + 1)):
    raise ImportError("cpscan io layout changed")


@micropython.viper
def minmax(buf, n: int, io):
    s = ptr16(buf)  # noqa: F821 - viper builtin
    o = ptr32(io)  # noqa: F821 - viper builtin
    lo = 65535
    hi = 0
    i = 0
    while i < n:
        v = int(s[i])
        if v < lo:
            lo = v
        if v > hi:
            hi = v
        i += 1
    o[0] = lo
    o[1] = hi


@micropython.viper
def total(buf, n: int) -> int:
    s = ptr16(buf)  # noqa: F821 - viper builtin
    t = 0
    i = 0
    while i < n:
        t += int(s[i])
        i += 1
    return t


@micropython.viper
def runs(buf, n: int, io):
    s = ptr16(buf)  # noqa: F821 - viper builtin
    o = ptr32(io)  # noqa: F821 - viper builtin
    thr = int(o[0])
    skip = int(o[1])
    hs = 0
    hn = 0
    ls = 0
    ln = 0
    nhigh = 0
    rises = 0
    first = 0
    last = 0
    cfirst = 0
    clast = 0
    glitch = 0
    hmin = 65535
    lmin = 65535
    hmax = 0
    lmax = 0
    i = 0
    while i < n:
        start = i
        if int(s[i]) > thr:
            while i < n and int(s[i]) > thr:
                i += 1
            if start > 0:
                if rises == 0:
                    first = start
                    cfirst = nhigh
                rises += 1
                last = start
                clast = nhigh
            nhigh += i - start
            j = start + skip
            while j < i:
                v = int(s[j])
                hs += v
                hn += 1
                if v < hmin:
                    hmin = v
                if v > hmax:
                    hmax = v
                j += 1
        else:
            while i < n and int(s[i]) <= thr:
                i += 1
            j = start + skip
            while j < i:
                v = int(s[j])
                ls += v
                ln += 1
                if v < lmin:
                    lmin = v
                if v > lmax:
                    lmax = v
                j += 1
        if start > 0 and i < n and i - start <= skip:
            glitch = 1
    o[_HS] = hs
    o[_HN] = hn
    o[_HMIN] = hmin
    o[_HMAX] = hmax
    o[_LS] = ls
    o[_LN] = ln
    o[_LMIN] = lmin
    o[_LMAX] = lmax
    o[_NHIGH] = nhigh
    o[_RISES] = rises
    o[_FIRST] = first
    o[_LAST] = last
    o[_CFIRST] = cfirst
    o[_CLAST] = clast
    o[_GLITCH] = glitch

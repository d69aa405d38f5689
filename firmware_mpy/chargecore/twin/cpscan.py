"""The per-sample loops of the CP window (plain Python; cpscan_viper.py is the same on MicroPython).

Both versions share one contract: `io` is a caller-owned array('i', IO_SIZE); runs() reads the threshold and
the edge skip from it and writes its results into it, so the window costs no allocation on MicroPython.
"""

IO_THR = 0
IO_SKIP = 1
IO_HS = 2
IO_HN = 3
IO_HMIN = 4
IO_HMAX = 5
IO_LS = 6
IO_LN = 7
IO_LMIN = 8
IO_LMAX = 9
IO_NHIGH = 10
IO_RISES = 11
IO_FIRST = 12
IO_LAST = 13
IO_CFIRST = 14
IO_CLAST = 15
IO_GLITCH = 16
IO_SIZE = 17


def minmax(buf, n, io):
    """io[0], io[1] = lowest and highest code of buf[:n]."""
    io[0] = min(buf)
    io[1] = max(buf)


def total(buf, n):
    return sum(buf)


def runs(buf, n, io):
    """Plateau sums, counts and extremes, run by run; every run but the first starts at an edge and its first
    `skip` samples are never averaged. Rising edges give the whole-period duty and the frequency."""
    thr = io[IO_THR]
    skip = io[IO_SKIP]
    hs = hn = ls = ln = nhigh = rises = first = last = cfirst = clast = glitch = 0
    hmin = lmin = 65535
    hmax = lmax = 0
    i = 0
    while i < n:
        start = i
        if buf[i] > thr:
            while i < n and buf[i] > thr:
                i += 1
            if start > 0:
                if rises == 0:
                    first = start
                    cfirst = nhigh
                rises += 1
                last = start
                clast = nhigh
            nhigh += i - start
            if start + skip < i:
                seg = buf[start + skip : i]
                hs += sum(seg)
                hn += i - start - skip
                hmin = min(hmin, min(seg))
                hmax = max(hmax, max(seg))
        else:
            while i < n and buf[i] <= thr:
                i += 1
            if start + skip < i:
                seg = buf[start + skip : i]
                ls += sum(seg)
                ln += i - start - skip
                lmin = min(lmin, min(seg))
                lmax = max(lmax, max(seg))
        if start > 0 and i < n and i - start <= skip:
            glitch = 1  # a plateau too short to measure
    io[IO_HS] = hs
    io[IO_HN] = hn
    io[IO_HMIN] = hmin
    io[IO_HMAX] = hmax
    io[IO_LS] = ls
    io[IO_LN] = ln
    io[IO_LMIN] = lmin
    io[IO_LMAX] = lmax
    io[IO_NHIGH] = nhigh
    io[IO_RISES] = rises
    io[IO_FIRST] = first
    io[IO_LAST] = last
    io[IO_CFIRST] = cfirst
    io[IO_CLAST] = clast
    io[IO_GLITCH] = glitch

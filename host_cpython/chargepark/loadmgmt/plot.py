"""The simulated day as a plain SVG: one panel per grid phase with the fuse, the planned current (the sum of
the set-points), the managed draw and the naive split's draw; the minutes the service was dead are shaded."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from chargepark.loadmgmt.simday import DayResult

W, H, PAD, GAP = 960, 180, 48, 24
SERIES = (("planned", "#1f77b4", "planned (sum of set-points)"), ("draw", "#2ca02c", "draw, load management"),
          ("naive_draw", "#999999", "draw, naive fuse/N"))  # fmt: skip


def svg(day: DayResult) -> str:
    samples = day.samples
    t_end = max(samples[-1]["t"], 1) if samples else 1
    top = max(day.fuse_a * 1.15, 1.0)

    def x(t: float) -> float:
        return PAD + (W - 2 * PAD) * t / t_end

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">'
           % (W, 3 * (H + GAP) + 40), '<rect width="100%" height="100%" fill="white"/>']  # fmt: skip
    for k in range(3):
        y0 = 20 + k * (H + GAP)

        def y(a: float, y0: float = y0) -> float:
            return y0 + H - H * a / top

        out.append(
            '<rect x="%d" y="%.1f" width="%d" height="%d" fill="none" stroke="#ccc"/>'
            % (PAD, y0, W - 2 * PAD, H)
        )
        for s in samples:
            if not s["alive"]:
                out.append(
                    '<rect x="%.1f" y="%.1f" width="%.2f" height="%d" fill="#fdd"/>'
                    % (x(s["t"]), y0, x(60) - x(0), H)
                )
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d62728" stroke-dasharray="4 2"/>'
                   % (PAD, W - PAD, y(day.fuse_a), y(day.fuse_a)))  # fmt: skip
        for key, colour, _ in SERIES:
            pts = " ".join("%.1f,%.1f" % (x(s["t"]), y(s[key][k] / 1000)) for s in samples if key in s)
            out.append('<polyline fill="none" stroke="%s" stroke-width="1" points="%s"/>' % (colour, pts))
        out.append('<text x="4" y="%.1f">L%d</text>' % (y0 + 12, k + 1))
        out.append('<text x="4" y="%.1f">%d A</text>' % (y(day.fuse_a) + 4, day.fuse_a))
    for h in range(0, int(t_end / 3600) + 1, 3):
        out.append(
            '<text x="%.1f" y="%d" text-anchor="middle">%02d:00</text>' % (x(h * 3600), 3 * (H + GAP) + 12, h)
        )
    legend = [("fuse", "#d62728")] + [(label, colour) for _, colour, label in SERIES]
    for i, (label, colour) in enumerate(legend):
        lx = PAD + i * 220
        out.append('<rect x="%d" y="%d" width="12" height="4" fill="%s"/>' % (lx, 3 * (H + GAP) + 26, colour))
        out.append('<text x="%d" y="%d">%s</text>' % (lx + 16, 3 * (H + GAP) + 32, escape(label)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(day: DayResult, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg(day))
    return path

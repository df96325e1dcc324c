"""A tiny SVG writer for the offline report: the browser draws the text.

Charts are inline ``<svg>`` elements built here, so Chinese labels render with
whatever CJK font the reader's system has (no plotting library, no embedded
font, no external reference — inline SVG needs no namespace URL). Every text
and attribute value passes through :func:`optimizer.report.safety.html_text`.
"""

from __future__ import annotations

import math

from markupsafe import Markup

from optimizer.report.safety import html_text

# Okabe–Ito: distinguishable for colour-blind readers and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _attrs(attrs: dict) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.1f}"
        parts.append(f'{key.rstrip("_").replace("_", "-")}="{html_text(value)}"')
    return " ".join(parts)


class Svg:
    """Collects elements; ``markup()`` returns the ``<svg>`` element."""

    def __init__(self, width: float, height: float, label: str, css_class: str = "chart"):
        self.width, self.height, self.label, self.css_class = width, height, label, css_class
        self.parts: list[str] = []

    def add(self, tag: str, text: str | None = None, **attrs) -> None:
        a = _attrs(attrs)
        if text is None:
            self.parts.append(f"<{tag} {a}/>")
        else:
            self.parts.append(f"<{tag} {a}>{html_text(text)}</{tag}>")

    def raw(self, markup: Markup) -> None:
        self.parts.append(str(markup))

    def text(self, x, y, text, anchor="start", size=12, **attrs) -> None:
        self.add("text", text, x=float(x), y=float(y), text_anchor=anchor, font_size=size, **attrs)

    def line(self, x1, y1, x2, y2, stroke="#999", **attrs) -> None:
        self.add("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), stroke=stroke,
                 **attrs)

    def rect(self, x, y, w, h, fill, **attrs) -> None:
        self.add("rect", x=float(x), y=float(y), width=float(max(w, 0.0)),
                 height=float(max(h, 0.0)), fill=fill, **attrs)

    def markup(self) -> Markup:
        head = (f'<svg class="{self.css_class}" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
                f'role="img" aria-label="{html_text(self.label)}">'
                f"<title>{html_text(self.label)}</title>")
        return Markup(head + "".join(self.parts) + "</svg>")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1-2-5 steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, t = [], first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 12))
    return ticks


def tick_label(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 10000:
        return f"{value / 10000:g}万"
    return f"{value:g}"


class Axes:
    """Linear mapping of data ranges onto a plot box inside an :class:`Svg`."""

    def __init__(self, svg: Svg, box: tuple[float, float, float, float], xr, yr):
        self.svg, (self.x0, self.y0, self.w, self.h) = svg, box
        self.xr, self.yr = xr, yr

    def x(self, v: float) -> float:
        lo, hi = self.xr
        return self.x0 + (v - lo) / (hi - lo or 1.0) * self.w

    def y(self, v: float) -> float:
        lo, hi = self.yr
        return self.y0 + self.h - (v - lo) / (hi - lo or 1.0) * self.h

    def y_axis(self, ticks: list[float], unit: str = "") -> None:
        for t in ticks:
            self.svg.line(self.x0, self.y(t), self.x0 + self.w, self.y(t),
                          stroke="#000" if t == 0 else "#e3e3e3")
            self.svg.text(self.x0 - 4, self.y(t) + 4, tick_label(t), anchor="end", size=10)
        if unit:
            self.svg.text(self.x0 - 4, self.y0 - 8, unit, anchor="end", size=10)

    def x_axis(self, ticks: list[float], unit: str = "") -> None:
        base = self.y0 + self.h
        self.svg.line(self.x0, base, self.x0 + self.w, base, stroke="#666")
        for t in ticks:
            self.svg.line(self.x(t), base, self.x(t), base + 4, stroke="#666")
            self.svg.text(self.x(t), base + 15, tick_label(t), anchor="middle", size=10)
        if unit:
            self.svg.text(self.x0 + self.w, base + 30, unit, anchor="end", size=10)

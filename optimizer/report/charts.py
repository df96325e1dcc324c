"""The report's charts as inline SVG (SPEC §8, issue 6).

- allocation change by grade and resource (one panel per variant)
- shadow prices by zone and resource (bars per variant)
- value added against energy / emission intensity across variants
- Lorenz curves of quotas before/after with Gini coefficients
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup

from optimizer.report.labels import GRADE_LABELS_ZH, UNITS_ZH, resource_label
from optimizer.report.results import VariantResult, run_resources
from optimizer.report.svg import Axes, Svg, colour, nice_ticks

GRADE_ORDER = ("A", "B", "C", "D", "U")
MAX_PANELS = 12          # small multiples beyond this would be unreadable: say so instead
MAX_PRICE_ROWS = 30


def grade_change(alloc: pd.DataFrame, resources: list[str]) -> pd.DataFrame:
    """% change of Σ quota by grade (rows) and resource (columns): Σafter/Σbefore − 1."""
    cols = [f"{r}_{s}" for r in resources for s in ("before", "after") if f"{r}_{s}" in alloc]
    sums = _sums_by(alloc["grade"], alloc[cols])
    out = pd.DataFrame(index=[g for g in GRADE_ORDER if g in sums.index] +
                       sorted(set(sums.index) - set(GRADE_ORDER)))
    for r in resources:
        if f"{r}_before" in sums and f"{r}_after" in sums:
            before = sums[f"{r}_before"].replace(0.0, np.nan)
            out[r] = (sums[f"{r}_after"] / before - 1.0) * 100.0
    return out


def _sums_by(keys: pd.Series, values: pd.DataFrame) -> pd.DataFrame:
    """``values.groupby(keys, sort=False).sum(min_count=1)`` by np.bincount (one pass per
    column instead of pandas' group machinery: a 20-variant report draws 12 panels)."""
    codes, groups = pd.factorize(keys, sort=False)
    keep = codes >= 0                   # a missing key belongs to no group, as in groupby
    out = {}
    for col in values.columns:
        v = pd.to_numeric(values[col], errors="coerce").to_numpy(dtype=float)[keep]
        present = ~np.isnan(v)
        total = np.bincount(codes[keep], weights=np.where(present, v, 0.0),
                            minlength=len(groups))
        count = np.bincount(codes[keep], weights=present, minlength=len(groups))
        out[col] = np.where(count > 0, total, np.nan)
    return pd.DataFrame(out, index=pd.Index(groups, name=keys.name), columns=values.columns)


def grade_change_panel(res: VariantResult, resources: list[str]) -> Markup:
    table = grade_change(res.allocation, resources)
    svg = Svg(440, 270, f"配额变化 by grade — {res.name}")
    svg.text(10, 18, f"方案 {res.name}: 各等级配额变化 (%)", size=13, font_weight="bold")
    values = table.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    lo, hi = (min(finite.min(), 0.0), max(finite.max(), 0.0)) if finite.size else (-1.0, 1.0)
    ticks = nice_ticks(lo, hi if hi > lo else lo + 1.0)
    ax = Axes(svg, (50, 40, 370, 180), (0, 1), (ticks[0], ticks[-1]))
    ax.y_axis(ticks, "%")
    n_g, n_r = max(len(table.index), 1), max(len(table.columns), 1)
    slot = 370 / n_g
    bar = slot * 0.8 / n_r
    for gi, grade in enumerate(table.index):
        x0 = 50 + gi * slot + slot * 0.1
        for ri, r in enumerate(table.columns):
            v = table.iat[gi, ri]
            if not np.isfinite(v):
                continue
            y_top, y_bot = sorted((ax.y(v), ax.y(0.0)))
            svg.rect(x0 + ri * bar, y_top, bar - 1, y_bot - y_top, colour(ri),
                     class_="bar")
        svg.text(50 + gi * slot + slot / 2, 236, GRADE_LABELS_ZH.get(grade, grade),
                 anchor="middle", size=11)
    for ri, r in enumerate(table.columns):
        svg.rect(60 + ri * 95, 250, 10, 10, colour(ri))
        svg.text(74 + ri * 95, 259, resource_label(r), size=10)
    return svg.markup()


def has_allocation(res: VariantResult) -> bool:
    """An infeasible variant writes allocation.csv with empty "after" cells: nothing to chart."""
    cols = [f"{r}_after" for r in res.resources]
    return bool(cols) and bool(res.allocation[cols].notna().to_numpy().any())


def grade_change_charts(results: list[VariantResult]) -> list[Markup]:
    resources = run_resources(results)
    return [grade_change_panel(res, resources) for res in results[:MAX_PANELS]
            if "grade" in res.allocation.columns and resources and has_allocation(res)]


def shadow_price_table(results: list[VariantResult]) -> pd.DataFrame:
    """Rows (zone, resource) with a non-zero dual in some variant; columns = variants."""
    parts = [res.zones.assign(variant=res.name) for res in results
             if {"zone_id", "resource", "shadow_price"} <= set(res.zones.columns)]
    if not parts:
        return pd.DataFrame()
    long = pd.concat(parts, ignore_index=True)
    long["shadow_price"] = pd.to_numeric(long["shadow_price"], errors="coerce")
    wide = long.pivot_table(index=["zone_id", "resource"], columns="variant",
                            values="shadow_price", aggfunc="first", sort=True)
    wide = wide[[r.name for r in results if r.name in wide.columns]]
    wide = wide[(wide.abs() > 1e-9).any(axis=1)]
    order = wide.abs().max(axis=1).sort_values(ascending=False, kind="mergesort").index
    return wide.loc[order[:MAX_PRICE_ROWS]]


def shadow_price_chart(results: list[VariantResult]) -> Markup | None:
    table = shadow_price_table(results)
    if table.empty:
        return None
    variants = list(table.columns)
    row_h = 8 + 9 * len(variants)
    top = 52
    height = top + row_h * len(table) + 48
    svg = Svg(900, height, "影子价格 shadow prices by zone", css_class="chart wide")
    svg.text(10, 18, "影子价格: 上限每增加一单位带来的目标增量 (万元/单位) — shadow price by zone and cap",
             size=13, font_weight="bold")
    _legend(svg, variants, 260, 38)
    hi = float(np.nanmax(table.to_numpy(dtype=float)))
    lo = min(float(np.nanmin(table.to_numpy(dtype=float))), 0.0)
    ticks = nice_ticks(lo, hi if hi > lo else lo + 1.0)
    ax = Axes(svg, (260, top, 600, row_h * len(table)), (ticks[0], ticks[-1]), (0, 1))
    ax.x_axis(ticks, "万元/单位 (per mu, tce or t)")
    for i, ((zone, resource), values) in enumerate(table.iterrows()):
        y = top + i * row_h
        unit = UNITS_ZH.get(resource, "")
        label = f"{zone} · {resource_label(resource)}" + (f"({unit})" if unit else "")
        svg.text(252, y + row_h / 2 + 4, label, anchor="end", size=11)
        for vi, v in enumerate(values.to_numpy(dtype=float)):
            if np.isfinite(v):
                x_a, x_b = sorted((ax.x(0.0), ax.x(v)))
                svg.rect(x_a, y + 4 + vi * 9, x_b - x_a, 8, colour(vi))
    return svg.markup()


def _legend(svg: Svg, names: list[str], x: float, y: float) -> None:
    for i, name in enumerate(names[:8]):
        svg.rect(x + i * 110, y - 9, 10, 10, colour(i))
        svg.text(x + 14 + i * 110, y, name[:14], size=10)


def intensity_chart(comparison: pd.DataFrame, kind: str) -> Markup | None:
    """Value added (y) against energy or emission intensity (x): today and each variant."""
    xb, xa = f"{kind}_per_value_before", f"{kind}_per_value_after"
    needed = {xb, xa, "value_added_before", "value_added_after"}
    if comparison.empty or not needed <= set(comparison.columns):
        return None
    frame = comparison[["variant"] + sorted(needed)].apply(
        lambda c: c if c.name == "variant" else pd.to_numeric(c, errors="coerce"))
    frame = frame.dropna()
    if frame.empty:
        return None
    title = {"energy": "单位增加值能耗 energy per value (吨标煤/万元)",
             "emission": "单位增加值排放 emission per value (吨/万元)"}[kind]
    svg = Svg(440, 300, f"value added vs {kind} intensity")
    svg.text(10, 18, f"增加值 vs {title}", size=12, font_weight="bold")
    xs = np.r_[frame[xb].iloc[0], frame[xa].to_numpy()]
    ys = np.r_[frame["value_added_before"].iloc[0], frame["value_added_after"].to_numpy()]
    xt = nice_ticks(*_padded(xs))
    yt = nice_ticks(*_padded(ys))
    ax = Axes(svg, (70, 40, 340, 200), (xt[0], xt[-1]), (yt[0], yt[-1]))
    ax.y_axis(yt, "万元")
    ax.x_axis(xt)
    x0, y0 = ax.x(xs[0]), ax.y(ys[0])
    svg.add("circle", cx=x0, cy=y0, r=5.0, fill="#777")
    svg.text(x0 + 7, y0 + 4, "现状 today", size=10)
    for i, row in enumerate(frame.itertuples(index=False)):
        x1, y1 = ax.x(getattr(row, xa)), ax.y(row.value_added_after)
        svg.line(x0, y0, x1, y1, stroke=colour(i), stroke_dasharray="3 3")
        svg.add("circle", cx=x1, cy=y1, r=5.0, fill=colour(i))
        svg.text(x1 + 7, y1 - 6, row.variant[:18], size=10)
    return svg.markup()


def _padded(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = (hi - lo) * 0.1 or abs(hi) * 0.05 or 1.0
    return lo - pad, hi + pad


def lorenz(values: np.ndarray, points: int = 101) -> tuple[np.ndarray, np.ndarray, float]:
    """Lorenz curve (x = share of enterprises, y = share of the resource) and Gini."""
    v = np.sort(np.clip(values[np.isfinite(values)], 0.0, None))
    if v.size == 0 or v.sum() <= 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0]), 0.0
    cum = np.r_[0.0, np.cumsum(v)] / v.sum()
    share = np.linspace(0.0, 1.0, v.size + 1)
    gini = 1.0 - 2.0 * np.trapezoid(cum, share)
    xs = np.linspace(0.0, 1.0, points)
    return xs, np.interp(xs, share, cum), float(gini)


def lorenz_chart(results: list[VariantResult], resource: str) -> Markup | None:
    """Lorenz curves of |quota after − before| per variant; G = summary's gini_change_<r>."""
    before, after = f"{resource}_before", f"{resource}_after"
    shown = [r for r in results if {before, after} <= set(r.allocation.columns)
             and r.allocation[after].notna().any()][:8]
    if not shown:
        return None
    svg = Svg(440, 330, f"Lorenz curve of quota changes {resource}")
    svg.text(10, 18, f"{resource_label(resource)}配额变化的洛伦兹曲线 Lorenz curve of |Δ quota|",
             size=12, font_weight="bold")
    ax = Axes(svg, (50, 35, 230, 230), (0.0, 1.0), (0.0, 1.0))
    ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
    ax.y_axis(ticks)
    ax.x_axis(ticks, "企业累计占比 share of firms")
    svg.line(ax.x(0), ax.y(0), ax.x(1), ax.y(1), stroke="#bbb")
    for k, res in enumerate(shown):
        change = (pd.to_numeric(res.allocation[after], errors="coerce")
                  - pd.to_numeric(res.allocation[before], errors="coerce")).abs()
        xs, ys, gini = lorenz(change.to_numpy(dtype=float))
        pts = " ".join(f"{ax.x(x):.1f},{ax.y(y):.1f}" for x, y in zip(xs, ys))
        svg.add("polyline", points=pts, fill="none", stroke=colour(k), stroke_width=2)
        svg.rect(292, 40 + k * 18, 10, 10, colour(k))
        svg.text(306, 49 + k * 18, f"{res.name[:12]} G={gini:.3f}", size=10)
    return svg.markup()


def lorenz_charts(results: list[VariantResult]) -> list[Markup]:
    charts = [lorenz_chart(results, r) for r in run_resources(results)]
    return [c for c in charts if c is not None]

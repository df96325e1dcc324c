"""report.html: one self-contained offline file (SPEC §8, issue 6).

Inline CSS, JS and SVG only — no CDN, web font, map tile or any external URL —
so it opens on an intranet. Text is drawn by the browser (CJK system fonts in
the CSS stack). Every input text is escaped (Jinja autoescape plus a ``finalize``
hook that also writes ``/`` as an entity); embedded JSON cannot close its
``<script>`` element (:func:`optimizer.report.safety.script_json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources as importlib_resources
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from optimizer.errors import OutputError
from optimizer.report import charts
from optimizer.report.labels import header, resource_label, zh_label
from optimizer.report.lookup import lookup_data
from optimizer.report.results import (VariantResult, first_table, flatten_manifest, load_run,
                                      projects_wide, run_resources, scenario_name)
from optimizer.report.safety import html_text, jinja_finalize, script_json
from optimizer.report.svgmap import CHANGE_COLOURS, CHANGE_LABELS, build_map

MAX_TABLE_ROWS = 2000
OK_STATUSES = {"optimal", "feasible"}
HEADLINE = [("value_added", "增加值 value added (万元)", 1), ("tax", "税收 tax (万元)", 1),
            ("value_per_mu", "亩均增加值 per mu (万元/亩)", 1),
            ("tax_per_mu", "亩均税收 tax per mu (万元/亩)", 1),
            ("energy_per_value", "单位增加值能耗 (吨标煤/万元)", -1),
            ("emission_per_value", "单位增加值排放 (吨/万元)", -1)]


@dataclass
class TableView:
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]


def fmt_number(value, key: str = "") -> str:
    """Planner-readable number: thousands separators, decimals by magnitude/meaning."""
    if value is None or value is pd.NA:
        return "–"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return str(value)
    v = float(value)
    if not np.isfinite(v):
        return "–"
    if isinstance(value, (int, np.integer)) or key.startswith(("count_", "projects_")):
        return f"{v:,.0f}"
    if key.endswith("_pct"):
        return f"{v:,.1f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 1 or v == 0:
        return f"{v:,.2f}"
    return f"{v:.4g}"


def table_view(frame: pd.DataFrame, max_rows: int = MAX_TABLE_ROWS) -> TableView | None:
    if frame is None or frame.empty:
        return None
    shown = frame.iloc[:max_rows]
    keys = [str(c) for c in shown.columns]
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])
               for c in shown.columns]
    rows = [[fmt_number(v, k) if num else ("" if v is None or v is pd.NA else str(v))
             for v, k, num in zip(row, keys, numeric)] for row in shown.itertuples(index=False)]
    if len(frame) > max_rows:
        more = f"… {len(frame) - max_rows} more rows in report.xlsx"
        rows.append([more] + [""] * (len(keys) - 1))
    return TableView([header(k) for k in keys], rows, numeric)


def html_table(view: TableView | None) -> Markup:
    """A ``<table>``; every cell escaped."""
    if view is None:
        return Markup("")
    head = "".join(f"<th>{html_text(h)}</th>" for h in view.headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{html_text(c)}</td>' if num else
                         f"<td>{html_text(c)}</td>" for c, num in zip(row, view.numeric)) + "</tr>"
        for row in view.rows)
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def comparison_view(comparison: pd.DataFrame) -> TableView | None:
    """Transposed comparison: KPI rows, one column per variant."""
    if comparison.empty:
        return None
    keys = [c for c in comparison.columns if c != "variant"]
    rows = [[header(k)] + [fmt_number(v, k) for v in comparison[k].tolist()] for k in keys]
    return TableView(["指标 / KPI"] + comparison["variant"].astype(str).tolist(), rows,
                     [False] + [True] * len(comparison))


def _kpi_value(row: pd.Series, key: str):
    value = row.get(key)
    if value is None or value is pd.NA:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def variant_cards(comparison: pd.DataFrame) -> list[dict]:
    cards = []
    for _, row in comparison.iterrows():
        items = [{"label": "目标值 objective (万元)", "delta": "", "cls": "",
                  "value": fmt_number(_kpi_value(row, "objective"))}]
        for key, label, good in HEADLINE:
            before, after = _kpi_value(row, f"{key}_before"), _kpi_value(row, f"{key}_after")
            if after is None:
                continue
            item = {"label": label, "value": fmt_number(after), "delta": "", "cls": ""}
            if before:
                change = (after / before - 1.0) * 100.0
                item["delta"] = f"{change:+.1f}%"
                item["cls"] = "up" if change * good > 0 else ("down" if change * good < 0 else "")
            items.append(item)
        if _kpi_value(row, "projects_admitted") is not None:
            items.append({"label": "准入项目 projects admitted", "delta": "", "cls": "",
                          "value": " / ".join(fmt_number(_kpi_value(row, k), k) for k in
                                              ("projects_admitted", "projects_eligible"))})
        status = str(row.get("status", ""))
        cards.append({"name": str(row["variant"]), "status": status,
                      "ok": status in OK_STATUSES, "rows": items})
    return cards


def chart_context(results: list[VariantResult], comparison: pd.DataFrame) -> dict:
    more = ""
    if len(results) > charts.MAX_PANELS:
        more = f"仅显示前 {charts.MAX_PANELS} 个方案 — first {charts.MAX_PANELS} of {len(results)} " \
               "variants shown; all are in report.xlsx."
    intensity = [charts.intensity_chart(comparison, k) for k in ("energy", "emission")]
    return {"grade": charts.grade_change_charts(results), "more": more,
            "prices": charts.shadow_price_chart(results),
            "intensity": [c for c in intensity if c is not None],
            "lorenz": charts.lorenz_charts(results)}


def _gini_note(comparison: pd.DataFrame) -> str:
    cols = [c for c in comparison.columns if c.startswith("gini_change_")]
    if not cols:
        return ""
    parts = [f"{zh_label(c)[0] or c}: " + ", ".join(
        f"{v} {fmt_number(x)}" for v, x in zip(comparison["variant"], comparison[c])) for c in cols]
    return "summary.json 基尼系数变化 Gini change — " + "; ".join(parts)


def _violations(violations_gdf) -> pd.DataFrame:
    if violations_gdf is None or len(violations_gdf) == 0:
        return pd.DataFrame()
    return pd.DataFrame(violations_gdf.drop(columns=violations_gdf.geometry.name))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("optimizer.report", "templates"),
        autoescape=True, finalize=jinja_finalize, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.globals["table"] = html_table
    return env


def _asset(name: str) -> Markup:
    """Our own CSS/JS, inlined verbatim (trusted package files, not input)."""
    text = importlib_resources.files("optimizer.report").joinpath("templates", name)
    return Markup(text.read_text(encoding="utf-8"))


def render_html(results: list[VariantResult], manifest: dict, comparison: pd.DataFrame,
                zones_gdf=None, parcels_gdf=None, violations_gdf=None) -> str:
    lookup = lookup_data(results)
    map_data = build_map(results, zones_gdf, parcels_gdf, violations_gdf)
    convention = next((str(r.summary["shadow_price_convention"]) for r in results
                       if r.summary.get("shadow_price_convention")), "")
    context = {
        "version": _version(), "scenario": scenario_name(manifest),
        "variants": variant_cards(comparison), "n_enterprises": lookup.get("total", 0),
        "diagnoses": [(r.name, str(d)) for r in results for d in r.summary.get("diagnosis") or []],
        "comparison_table": comparison_view(comparison),
        "charts": chart_context(results, comparison), "gini_note": _gini_note(comparison),
        "price_convention": f"符号约定 sign convention: {convention}" if convention else "",
        "resources": [(r, resource_label(r)) for r in run_resources(results)],
        "map": map_data, "legend": list(zip(CHANGE_LABELS, CHANGE_COLOURS)),
        "map_json": script_json({"ids": map_data.parcel_ids, "classes": map_data.classes})
        if map_data else "",
        "boundaries": table_view(first_table(results, "boundaries")),
        "violations": table_view(_violations(violations_gdf)),
        "projects": table_view(projects_wide(results)),
        "lookup_json": script_json(lookup), "lookup_note": _lookup_note(lookup),
        "manifest_table": table_view(pd.DataFrame(flatten_manifest(manifest),
                                                  columns=["key", "value"])),
        "css": _asset("report.css"), "js": _asset("report.js"),
    }
    return _environment().get_template("report.html.j2").render(**context)


def _lookup_note(lookup: dict) -> str:
    n, total = lookup.get("n", 0), lookup.get("total", 0)
    if total > n:
        return (f"查询仅含按代码排序的前 {n} 家企业 — the lookup holds the first "
                f"{n} of {total} enterprises by id; all are in report.xlsx.")
    return ""


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("mujun")
    except Exception:  # not installed (running from a checkout): the report still renders
        return "dev"


def write_html(out_path: Path, variant_dirs: dict[str, Path], manifest: dict,
               comparison: pd.DataFrame, zones_gdf=None, parcels_gdf=None,
               violations_gdf=None) -> None:
    """report.html for finished variant folders (base first)."""
    text = render_html(load_run(variant_dirs), manifest, comparison, zones_gdf, parcels_gdf,
                       violations_gdf)
    save_html(Path(out_path), text)


def save_html(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise OutputError(f"cannot write report.html: {exc}", file=path) from exc

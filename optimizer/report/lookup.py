"""Per-enterprise lookup data for the HTML report (企业查询).

Columnar JSON (one list per field, enterprises sorted by id) keeps the file
small; the page's script searches id/name and shows the grade, the score
breakdown (grades.csv: value, benchmark, points per indicator), quotas before
and after in every variant and the binding reason. Each enterprise costs about
50 bytes per variant, so large runs embed the first ``lookup_limit`` enterprises
by id (at most ``MAX_LOOKUP``, and at most ``LOOKUP_BUDGET`` enterprise×variant
pairs: ~5 MB) and the page says so; report.xlsx has them all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.report.labels import INDICATORS_ZH, resource_label
from optimizer.report.results import VariantResult, first_table, run_resources
from optimizer.report.safety import JsonReady

MAX_LOOKUP = 20_000
LOOKUP_BUDGET = 100_000      # enterprise × variant pairs embedded in the page


def lookup_limit(n_variants: int) -> int:
    return min(MAX_LOOKUP, LOOKUP_BUDGET // max(n_variants, 1))


def _numbers(values: pd.Series, decimals: int = 4) -> list:
    """Rounded floats (None for missing) — short JSON."""
    arr = np.round(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float), decimals)
    out = arr.astype(object)
    out[~np.isfinite(arr)] = None
    return JsonReady(out.tolist())


def _texts(values: pd.Series) -> list[str]:
    return JsonReady(values.fillna("").astype(str).tolist())


def _by_id(frame: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """The frame's first row of each id, in the order of ``ids`` (NaN rows for ids it
    lacks). A frame that starts with exactly these ids, as every variant of a run does
    (read back sorted by id), is cut instead of re-indexed: 5 ms per variant less at
    10,000 firms, which counts in a 20-variant sweep."""
    head = frame["id"].to_numpy()[:len(ids)]
    if len(head) == len(ids) and np.array_equal(head, ids.to_numpy()):
        return frame.iloc[:len(ids)]
    return frame.drop_duplicates("id").set_index("id").reindex(ids)


def indicator_keys(grades: pd.DataFrame) -> list[str]:
    """Indicators present as <key>_value / _benchmark / _points triples, in file order."""
    return [c[:-len("_points")] for c in grades.columns
            if c.endswith("_points") and f"{c[:-len('_points')]}_value" in grades.columns]


def _codes(values: pd.Series) -> tuple[list[int], list[str]]:
    """Dictionary-encode repeated text (binding reasons): codes and the sorted table."""
    codes, uniques = pd.factorize(values.fillna("").astype(str), sort=True)
    return JsonReady(codes.tolist()), [str(u) for u in uniques]


def lookup_data(results: list[VariantResult]) -> dict:
    allocs = [r.allocation for r in results if "id" in r.allocation.columns]
    if not allocs:
        return {"n": 0, "total": 0}
    ident = pd.concat([a[[c for c in ("id", "name", "zone_id", "grade", "score") if c in a]]
                       for a in allocs]).drop_duplicates("id").sort_values("id", kind="mergesort")
    total = len(ident)
    ident = ident.iloc[:lookup_limit(len(results))]
    ids = ident["id"]
    resources = run_resources(results)
    data = {"n": len(ident), "total": total, "resources": resources,
            "resourceLabels": {r: resource_label(r) for r in resources},
            "id": _texts(ids), "name": _texts(ident.get("name", pd.Series("", index=ident.index))),
            "zone": _texts(ident.get("zone_id", pd.Series("", index=ident.index))),
            "grade": _texts(ident.get("grade", pd.Series("", index=ident.index))),
            "score": _numbers(ident.get("score", pd.Series(np.nan, index=ident.index)), 2)}
    data.update(_grades_part(first_table(results, "grades"), ids))
    base = _by_id(allocs[0], ids)
    data["before"] = {r: _numbers(base.get(f"{r}_before", pd.Series(np.nan, index=ids)), 3)
                      for r in resources}
    data["valueBefore"] = _numbers(base.get("value_before", pd.Series(np.nan, index=ids)), 2)
    data["variants"] = [_variant_part(res, ids, resources) for res in results]
    return data


def _grades_part(grades: pd.DataFrame, ids: pd.Series) -> dict:
    if grades.empty or "id" not in grades.columns:
        return {"indicators": [], "indicatorLabels": {}, "points": {}, "reason": []}
    g = _by_id(grades, ids)
    keys = indicator_keys(grades)
    part = {"indicators": keys, "indicatorLabels": {k: INDICATORS_ZH.get(k, k) for k in keys},
            "ind": {k: [_numbers(g[f"{k}_value"]), _numbers(g.get(f"{k}_benchmark",
                        pd.Series(np.nan, index=g.index))), _numbers(g[f"{k}_points"], 2)]
                    for k in keys}}
    part["reason"] = _texts(g["reason"]) if "reason" in g.columns else []
    part["group"] = _texts(g["group"]) if "group" in g.columns else []
    return part


def _variant_part(res: VariantResult, ids: pd.Series, resources: list[str]) -> dict:
    after_cols = [f"{r}_after" for r in resources if f"{r}_after" in res.allocation.columns]
    if "id" not in res.allocation.columns or not after_cols or \
            not res.allocation[after_cols].notna().to_numpy().any():
        # no allocation (e.g. infeasible): the page shows the status instead of numbers
        return {"name": res.name, "status": str(res.summary.get("status", "")), "missing": True}
    a = _by_id(res.allocation, ids)
    missing = pd.Series(np.nan, index=a.index)
    codes, table = _codes(a.get("binding", pd.Series("", index=a.index)))
    return {"name": res.name, "status": str(res.summary.get("status", "")),
            "scale": _numbers(a.get("scale", missing)),
            "after": {r: _numbers(a.get(f"{r}_after", missing), 3) for r in resources},
            "valueAfter": _numbers(a.get("value_after", missing), 2),
            "binding": codes, "bindingText": table}

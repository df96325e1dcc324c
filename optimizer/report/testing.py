"""A synthetic finished run (SPEC §8 files) for report tests, benchmarks and screenshots.

``write_fake_run`` writes what ``mujun run`` would write — per variant
allocation/projects/zones/grades/tiers/boundaries CSVs and summary.json, plus
manifest.json — with plausible numbers, so the report can be built and looked at
without solving. Optional hostile names exercise the escaping.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.report.safety import csv_safe

HOSTILE_NAMES = ('=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx",
                 "<script>alert(1)</script>", "</script><b>x</b>")
ZONES = (("Z01", "黄岩经济开发区", 121.20, 28.62), ("Z02", "台州湾新区", 121.42, 28.55),
         ("Z03", "温岭东部新区", 121.38, 28.40))
RESOURCES = ("land_mu", "energy_tce", "cod_t", "nox_t")
UNITS = {"land_mu": "mu", "energy_tce": "tce", "cod_t": "t", "nox_t": "t"}
# Variant -> scale bounds by grade (a toy stand-in for the optimiser's answer).
DEFAULT_VARIANTS = {"base": {"A": 1.15, "B": 1.05, "C": 0.95, "D": 0.8, "U": 1.0},
                    "strict-D": {"A": 1.2, "B": 1.08, "C": 0.9, "D": 0.6, "U": 1.0},
                    "energy-0.95": {"A": 1.1, "B": 1.02, "C": 0.9, "D": 0.7, "U": 1.0}}
FLOAT = "%.6f"


def fake_enterprises(n: int, seed: int = 0, hostile: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.array([f"E{i:06d}" for i in range(n)])
    names = np.array([f"台州{['模具', '塑料', '汽配', '泵业', '缝制'][i % 5]}企业{i}" for i in range(n)],
                     dtype=object)
    if hostile:
        k = min(len(HOSTILE_NAMES), n)
        names[:k] = HOSTILE_NAMES[:k]
    zone = np.array([z[0] for z in ZONES])[rng.integers(0, len(ZONES), n)]
    land = np.round(rng.lognormal(3.0, 0.8, n), 3)
    frame = pd.DataFrame({"id": ids, "name": names.astype(str), "zone_id": zone, "land_mu": land})
    frame["tax_per_mu"] = rng.lognormal(2.5, 0.7, n)
    frame["va_per_mu"] = frame["tax_per_mu"] * rng.lognormal(1.2, 0.3, n)
    frame["energy_tce"] = land * rng.lognormal(1.0, 0.6, n)
    frame["cod_t"] = land * rng.lognormal(-3.0, 0.5, n)
    frame["nox_t"] = land * rng.lognormal(-2.5, 0.5, n)
    frame["value_added"] = frame["va_per_mu"] * land
    frame["va_per_energy"] = frame["value_added"] / frame["energy_tce"]
    score = 40 * _ratio(frame["tax_per_mu"]) + 40 * _ratio(frame["va_per_mu"]) \
        + 20 * _ratio(frame["va_per_energy"])
    frame["score"] = np.round(score, 4)
    q = frame["score"].rank(pct=True, method="first")
    frame["grade"] = np.select([q > 0.8, q > 0.25, q > 0.05], ["A", "B", "C"], "D")
    frame.loc[frame["land_mu"] < 3, "grade"] = "U"
    return frame


def _ratio(values: pd.Series) -> pd.Series:
    return (values / values.mean()).clip(0, 2)


def allocation_for(ents: pd.DataFrame, scales: dict[str, float]) -> pd.DataFrame:
    out = ents[["id", "name", "zone_id", "grade", "score"]].copy()
    out["scale"] = ents["grade"].map(scales).astype(float)
    for r in RESOURCES:
        out[f"{r}_before"] = ents[r]
        out[f"{r}_after"] = ents[r] * np.where(r == "land_mu", out["scale"].clip(upper=1.0),
                                               out["scale"])
        out[f"{r}_change_pct"] = (out[f"{r}_after"] / out[f"{r}_before"] - 1) * 100
    out["value_before"] = ents["value_added"]
    out["value_after"] = ents["value_added"] * out["scale"]
    out["binding"] = np.select([out["scale"] > 1, out["scale"] < 1],
                               ["at tier ceiling 处于档次上限", "limited by zone land cap 受开发区用地上限约束"],
                               "at tier floor 处于档次下限")
    return out


def zones_for(alloc: pd.DataFrame, variant_index: int) -> pd.DataFrame:
    rows = []
    for r in RESOURCES:
        sums = alloc.groupby("zone_id", sort=True)[[f"{r}_before", f"{r}_after"]].sum()
        for i, (zone, (before, after)) in enumerate(sums.iterrows()):
            price = 0.0 if (i + variant_index) % 2 else round(3.5 + i + variant_index, 4)
            rows.append([zone, r, UNITS[r], before, after, before * 1.0, price])
        total_b, total_a = sums.sum()
        rows.append(["(global)", r, UNITS[r], total_b, total_a, total_b * 0.97,
                     0.8 * variant_index if r == "energy_tce" else 0.0])
    rows.append(["(global)", "energy_intensity", "tce/万元", 0.5, 0.47, 0.475, 0.0])
    return pd.DataFrame(rows, columns=["zone_id", "resource", "unit", "before", "after", "cap",
                                       "shadow_price"])


def summary_for(alloc: pd.DataFrame, variant: str, scales: dict) -> dict:
    va_b, va_a = alloc["value_before"].sum(), alloc["value_after"].sum()
    land_b, land_a = alloc["land_mu_before"].sum(), alloc["land_mu_after"].sum()
    kpis = {"value_added_before": va_b, "value_added_after": va_a,
            "tax_before": va_b * 0.3, "tax_after": va_a * 0.3,
            "energy_per_value_before": alloc["energy_tce_before"].sum() / va_b,
            "energy_per_value_after": alloc["energy_tce_after"].sum() / va_a,
            "emission_per_value_before": alloc[["cod_t_before", "nox_t_before"]].sum().sum() / va_b,
            "emission_per_value_after": alloc[["cod_t_after", "nox_t_after"]].sum().sum() / va_a,
            "value_per_mu_before": va_b / land_b, "value_per_mu_after": va_a / land_a,
            "tax_per_mu_before": va_b * 0.3 / land_b, "tax_per_mu_after": va_a * 0.3 / land_a,
            "gini_change_land_mu": round(0.01 * scales["D"], 6)}
    kpis.update({f"count_{g}": int((alloc["grade"] == g).sum()) for g in "ABCDU"})
    kpis.update({"surcharge_revenue_wan_D": 12.5, "land_tax_relief_wan_A": 30.0,
                 "land_tax_relief_wan_B": 18.0, "projects_admitted": 2, "projects_eligible": 3,
                 "land_to_projects_mu": 85.0, "objective": va_a, "custom_extra_kpi": 1.5})
    return {"status": "optimal", "objective": va_a, "kpis": kpis, "solver": "ortools:glop",
            "method": "lp", "variant": variant, "timings": {"solve_s": 0.01}, "diagnosis": [],
            "shadow_price_convention": "万元 per unit of cap; >= 0 for a binding <= cap"}


def grades_for(ents: pd.DataFrame) -> pd.DataFrame:
    out = ents[["id", "zone_id"]].copy()
    out["group"] = ents["zone_id"]
    out["above_scale"] = "true"
    for key, weight in (("tax_per_mu", 40), ("va_per_mu", 40), ("va_per_energy", 20)):
        bench = ents[key].mean()
        out[f"{key}_value"] = ents[key]
        out[f"{key}_benchmark"] = bench
        out[f"{key}_points"] = weight * (ents[key] / bench).clip(0, 2)
    out["score"] = ents["score"]
    out["rank_in_group"] = ents.groupby("zone_id")["score"].rank(ascending=False, method="first")
    out["grade"] = ents["grade"]
    out["reason"] = np.where(ents["grade"] == "U", "用地不足3亩，不参评", "")
    return out


def tiers_for(scales: dict) -> pd.DataFrame:
    rows = []
    for g, s in scales.items():
        row = {"grade": g, "label": {"A": "优先发展", "B": "提升发展", "C": "整治提升", "D": "倒逼退出",
                                     "U": "未评价"}[g], "scale_lo": min(s, 1.0), "scale_hi": s}
        for r in RESOURCES:
            row.update({f"{r}_quota_lo": 0.5, f"{r}_quota_hi": 1.2, f"{r}_efficiency": 0.0})
        row.update({"weight": 1.0, "exit_allowed": str(g == "D").lower(),
                    "land_tax_relief": {"A": 1.0, "B": 0.8}.get(g, 0.0),
                    "electricity_surcharge_yuan_per_kwh": 0.3 if g == "D" else 0.0})
        rows.append(row)
    return pd.DataFrame(rows)


def boundaries_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "zone_id": [z[0] for z in ZONES], "name": [z[1] for z in ZONES],
        "approved_area_mu": [12000.0, 15000.0, 9000.0],
        "boundary_area_mu": [12010.0, 14990.0, 9003.0],
        "occupied_mu": [9000.0, 11000.0, 9100.0], "protected_mu": [300.0, 0.0, 150.0],
        "reserve_mu": [1200.0, 1500.0, 900.0], "land_cap_mu": [10500.0, 13490.0, 7953.0],
        "violations": ["", "1 parcel outside (0.8 mu)", "occupied > approved"],
        "sizhi": ["东至东环大道、南至永宁江、西至104国道、北至北院大道", "东至海堤、南至椒江、西至疏港大道、北至十一塘",
                  "东至海、南至箬横镇、西至甬台温高速、北至松门镇"]})


def projects_frame() -> pd.DataFrame:
    return pd.DataFrame({"id": ["P1", "P2", "P3", "P4"], "name": ["新能源汽配项目", "=cmd|' /C calc'!A0",
                                                                  "智能模具项目", "小型仓储项目"],
                         "zone_id": ["Z01", "Z02", "Z03", "Z01"],
                         "investment_intensity": [450.0, 380.0, 520.0, 90.0],
                         "eligible": ["true", "true", "true", "false"],
                         "reason": ["", "", "", "投资强度低于全省平均 below provincial average"],
                         "admitted_share": [1.0, 0.5, 1.0, 0.0]})


def write_fake_run(root: Path, n: int = 120, variants: dict | None = None, seed: int = 0,
                   hostile: bool = False) -> tuple[dict[str, Path], dict]:
    """Write a run folder under ``root``; return (variant_dirs, manifest)."""
    variants = variants or DEFAULT_VARIANTS
    root = Path(root)
    ents = fake_enterprises(n, seed, hostile)
    dirs = {}
    for k, (variant, scales) in enumerate(variants.items()):
        vdir = root / variant
        vdir.mkdir(parents=True, exist_ok=True)
        alloc = allocation_for(ents, scales)
        tables = {"allocation": alloc, "projects": projects_frame(), "zones": zones_for(alloc, k),
                  "grades": grades_for(ents), "tiers": tiers_for(scales),
                  "boundaries": boundaries_frame()}
        for table, frame in tables.items():
            csv_safe(frame, neutralise=False).to_csv(vdir / f"{table}.csv", index=False,
                                                     float_format=FLOAT, lineterminator="\n")
        (vdir / "summary.json").write_text(json.dumps(summary_for(alloc, variant, scales),
                                                      ensure_ascii=False, indent=1), "utf-8")
        dirs[variant] = vdir
    manifest = {"scenario": "demo <b>黄岩</b>", "seed": 0,
                "inputs": {"enterprises.csv": {"sha256": "ab" * 32}},
                "versions": {"mujun": "0.1.0", "ortools": "9.15"},
                "timings": {v: {"solve_s": 0.01} for v in variants}}
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    return dirs, manifest


def fake_geometries(n: int, seed: int = 0):
    """(zones_gdf, parcels_gdf, violations_gdf) in EPSG:4326 matching ``fake_enterprises``."""
    import geopandas as gpd
    from shapely.geometry import box

    ents = fake_enterprises(n, seed)
    centres = {z[0]: (z[2], z[3]) for z in ZONES}
    zones = gpd.GeoDataFrame({"zone_id": [z[0] for z in ZONES], "name": [z[1] for z in ZONES]},
                             geometry=[box(x - 0.04, y - 0.03, x + 0.04, y + 0.03)
                                       for _, _, x, y in ZONES], crs="EPSG:4326")
    rng = np.random.default_rng(seed + 1)
    cx = ents["zone_id"].map(lambda z: centres[z][0]).to_numpy() + rng.uniform(-0.037, 0.037, n)
    cy = ents["zone_id"].map(lambda z: centres[z][1]).to_numpy() + rng.uniform(-0.027, 0.027, n)
    half = np.sqrt(ents["land_mu"].to_numpy() * 666.67) / 2 / 100000.0
    parcels = gpd.GeoDataFrame({"id": ents["id"]}, crs="EPSG:4326",
                               geometry=[box(x - h, y - h, x + h, y + h)
                                         for x, y, h in zip(cx, cy, half)])
    violations = parcels.iloc[:2].assign(zone_id=ents["zone_id"].iloc[:2],
                                         outside_mu=[0.8, 0.2], rule="parcel outside 四至")
    violations["geometry"] = violations.geometry.translate(0.02, 0.0)  # partly outside
    return zones, parcels, violations

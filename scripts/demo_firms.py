"""Synthetic enterprises and new-project candidates, calibrated to published figures.

All draws are vectorised. A firm's efficiency factor (heavy-tailed, lognormal) drives
value added per mu, tax, energy and emission efficiency, productivity and R&D jointly,
each with its own noise, so the six 亩均 indicators are correlated as in real data and
the composite scores spread into grades. Totals are then rescaled so the aggregate
indicators of 规上 firms hit the calibration targets below.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo_sectors import SECTORS, zone_sector_weights
from demo_names import credit_codes, firm_names, project_names

# 1 万kWh = 1.229 tce (electricity 当量值 0.1229 kgce/kWh, GB/T 2589-2020).
TCE_PER_10K_KWH = 1.229

# Calibration targets: aggregate ratios over 规上 firms (Σ numerator / Σ denominator).
# Sources: reference policy facts ("published figures"), see data/demo/README.md.
TARGETS = {
    "tax_per_mu": 24.0,          # 亩均税收: Huangyan 2022 benchmark 24.097; Zhejiang 2017 25.5
    "va_per_mu": 120.0,          # 亩均增加值: zones 102.6 (2017) .. 136 (2020); Huangyan 136.16
    "va_per_tce": 2.0,           # 单位能耗增加值: Lishui 2019 1.14, Huangyan 2.694 万元/tce
    "va_per_t": 2000.0,          # 单位排放增加值: Lishui 611.55, Huangyan 4929.81 万元/t
    "va_per_worker": 20.0,       # 全员劳动生产率: Lishui 16.45, Zhejiang 2020 23.5 万元/人
    "rd_share": 0.023,           # R&D/主营业务收入: zones 1.55% (2017), 2.8% (2020), Lishui 2.36%
    "small_tax_per_mu": 11.6,    # 规下 亩均税收: Huangyan 2022 benchmark 11.5932
}
SHARES = {"below_scale": 0.15, "fdi": 0.08, "veto": 0.005, "new_firm": 0.03,
          "missing_emissions": 0.02, "loss_making": 0.002}
VETO_REASONS = np.array(["安全生产事故", "重大环境污染事件"])
POLLUTANTS = ("cod_t", "nh3n_t", "so2_t", "nox_t")
ROUNDING = {"land_mu": 3, "tax": 2, "value_added": 2, "revenue": 2, "rd_expense": 2,
            "employees": 0, "energy_tce": 2, "electricity_10k_kwh": 2,
            "cod_t": 4, "nh3n_t": 4, "so2_t": 4, "nox_t": 4}


def zone_counts(area_ha: np.ndarray, n: int) -> np.ndarray:
    """Firms per zone proportional to approved area (largest remainder, deterministic)."""
    raw = n * area_ha / area_ha.sum()
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="mergesort")
    counts[order[: n - counts.sum()]] += 1
    return counts


def draw_sectors(rng, zones: pd.DataFrame, counts: np.ndarray) -> np.ndarray:
    parts = [rng.choice(SECTORS.index.to_numpy(), size=k, p=zone_sector_weights(ind).to_numpy())
             for ind, k in zip(zones["industries"], counts)]
    return np.concatenate(parts) if parts else np.array([], dtype=str)


def draw_land(rng, above: np.ndarray) -> np.ndarray:
    """Land per firm, mu. 规上 lognormal mean ≈ 34 mu; 规下 mean ≈ 8 mu (many < 5 mu)."""
    land = np.where(above, rng.lognormal(np.log(34.0) - 0.36, 0.85, above.size),
                    rng.lognormal(np.log(8.0) - 0.28, 0.75, above.size))
    return np.clip(land, 0.8, 800.0)


def generate_enterprises(zones: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """n synthetic enterprises over `zones` (columns zone_id, county, city, industries, approved_area_ha)."""
    rng = np.random.default_rng(seed)
    counts = zone_counts(zones["approved_area_ha"].to_numpy(), n)
    zi = np.repeat(np.arange(len(zones)), counts)
    sector = draw_sectors(rng, zones, counts)
    s = SECTORS.loc[sector]
    above = rng.random(n) >= SHARES["below_scale"]
    fdi = rng.random(n) < SHARES["fdi"]
    new = rng.random(n) < SHARES["new_firm"]
    land = draw_land(rng, above)
    zone_effect = rng.lognormal(0.0, 0.15, len(zones))[zi]
    # Efficiency factor: heavy-tailed; foreign-invested firms a bit better, new firms ramping up.
    eff = rng.lognormal(0.0, 0.6, n) * zone_effect * np.where(fdi, 1.2, 1.0) * np.where(new, 0.55, 1.0)
    va = land * s["va_per_mu"].to_numpy() * eff * rng.lognormal(0, 0.25, n) * np.where(above, 1.0, 0.45)
    tax = va * s["tax_per_va"].to_numpy() * eff ** 0.3 * rng.lognormal(0, 0.35, n)
    # Small firms use more energy per unit of value added (older kit, less scale).
    energy = va / (s["va_per_tce"].to_numpy() * eff ** 0.5 * rng.lognormal(0, 0.45, n)
                   * np.where(above, 1.0, 0.4))
    pollution = va / (s["va_per_pollutant"].to_numpy() * eff ** 0.5 * rng.lognormal(0, 0.7, n))
    workers = va / (s["productivity"].to_numpy() * eff ** 0.4 * rng.lognormal(0, 0.3, n))
    va_rate = np.clip(0.22 * rng.lognormal(0, 0.25, n), 0.08, 0.6)   # 工业增加值率 ≈ 22%
    rd_share = s["rd_share"].to_numpy() * eff ** 0.3 * rng.lognormal(0, 0.6, n)
    rd_share *= rng.random(n) >= np.where(above, 0.08, 0.5)     # many small firms report no R&D
    df = pd.DataFrame({
        "zone_id": zones["zone_id"].to_numpy()[zi], "county": zones["county"].to_numpy()[zi],
        "sector": sector, "above_scale": above, "land_mu": land, "tax": tax, "value_added": va,
        "va_rate": va_rate, "rd_share": rd_share, "employees": workers, "energy_tce": energy,
        "pollution": pollution, "fdi": fdi, "new_firm": new,
    })
    for col, share in zip(POLLUTANTS, ("mix_cod", "mix_nh3n", "mix_so2", "mix_nox")):
        df[col] = pollution * s[share].to_numpy() * rng.lognormal(0, 0.3, n)
    calibrate(df)
    df["electricity_10k_kwh"] = (df["energy_tce"] * s["elec_share"].to_numpy()
                                 * rng.lognormal(0, 0.1, n) / TCE_PER_10K_KWH)
    df["rd_expense"] = df["revenue"] * df["rd_share"]
    _add_exceptions(rng, df)
    df["id"] = credit_codes(df["county"].to_numpy(), np.arange(n), seed)
    df["name"] = firm_names(rng, df["county"].to_numpy(), dict(zip(zones["county"], zones["city"])),
                            sector, fdi)
    df["veto"] = _veto(rng, n)
    df["grade"] = ""
    return finish(df)


def calibrate(df: pd.DataFrame) -> None:
    """Rescale numerators so the 规上 aggregates equal TARGETS (in place)."""
    up = df["above_scale"].to_numpy()
    land = df.loc[up, "land_mu"].sum()
    df["value_added"] *= TARGETS["va_per_mu"] * land / df.loc[up, "value_added"].sum()
    va = df.loc[up, "value_added"].sum()
    df.loc[up, "tax"] *= TARGETS["tax_per_mu"] * land / df.loc[up, "tax"].sum()
    small = ~up
    if small.any():
        df.loc[small, "tax"] *= (TARGETS["small_tax_per_mu"] * df.loc[small, "land_mu"].sum()
                                 / df.loc[small, "tax"].sum())
    df["energy_tce"] *= va / TARGETS["va_per_tce"] / df.loc[up, "energy_tce"].sum()
    total = df.loc[up, list(POLLUTANTS)].to_numpy().sum()
    for col in POLLUTANTS:
        df[col] *= va / TARGETS["va_per_t"] / total
    df["employees"] *= va / TARGETS["va_per_worker"] / df.loc[up, "employees"].sum()
    df["employees"] = np.maximum(np.round(df["employees"]), 2.0)
    df["revenue"] = np.abs(df["value_added"]) / df["va_rate"]
    rd = (df["revenue"] * df["rd_share"])[up].sum()
    df["rd_share"] *= TARGETS["rd_share"] * df.loc[up, "revenue"].sum() / rd


def _add_exceptions(rng, df: pd.DataFrame) -> None:
    """Loss-making firms (value added ≤ 0) and 规上 firms without emission data."""
    n = len(df)
    k = max(3, int(round(SHARES["loss_making"] * n)))
    loss = rng.choice(n, size=k, replace=False)
    df.loc[loss, "value_added"] = -np.round(rng.uniform(0.0, 0.4, k) * df.loc[loss, "value_added"], 2)
    df.loc[loss[0], "value_added"] = 0.0
    df.loc[loss, "tax"] *= 0.1
    up = np.flatnonzero(df["above_scale"].to_numpy())
    missing = rng.choice(up, size=int(round(SHARES["missing_emissions"] * up.size)), replace=False)
    df.loc[missing, list(POLLUTANTS)] = np.nan


def _veto(rng, n: int) -> np.ndarray:
    veto = np.full(n, "", dtype=object)
    k = max(2, int(round(SHARES["veto"] * n)))
    idx = rng.choice(n, size=k, replace=False)
    veto[idx] = VETO_REASONS[np.arange(k) % 2]
    return veto


def finish(df: pd.DataFrame) -> pd.DataFrame:
    """Round with a fixed number of decimals, order columns as the schema, sort by id."""
    from optimizer.schema import ENTERPRISE_COLUMNS
    for col, nd in ROUNDING.items():
        df[col] = df[col].round(nd)
    df["land_mu"] = np.maximum(df["land_mu"], 0.5)
    cols = [c.name for c in ENTERPRISE_COLUMNS]
    out = df[cols].sort_values("id", kind="mergesort").reset_index(drop=True)
    for c in ENTERPRISE_COLUMNS:
        if c.kind == "str":
            out[c.name] = out[c.name].astype(str)
        elif c.kind == "bool":
            out[c.name] = out[c.name].astype(bool)
        else:
            out[c.name] = out[c.name].astype("float64")
    return out


def generate_projects(zones: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """New-project candidates (新增项目). Investment intensity is spread around the Wenling
    2021 标准地 floor of 270 万元/亩, so about a third fall below it and are ineligible."""
    rng = np.random.default_rng(seed + 7)
    zi = rng.choice(len(zones), size=n, p=zones["approved_area_ha"].to_numpy()
                    / zones["approved_area_ha"].sum())
    sector = np.array([rng.choice(SECTORS.index.to_numpy(), p=zone_sector_weights(zones["industries"].iloc[i]).to_numpy())
                       for i in zi])
    s = SECTORS.loc[sector]
    land = np.round(rng.lognormal(np.log(45.0), 0.6, n), 1).clip(8.0, 300.0)
    intensity = rng.lognormal(np.log(300.0), 0.3, n)
    va = land * 130.9 * rng.lognormal(0, 0.35, n) * s["va_per_mu"].to_numpy() ** 0.5
    pollution = va / (TARGETS["va_per_t"] * s["va_per_pollutant"].to_numpy() * rng.lognormal(0, 0.5, n))
    out = pd.DataFrame({
        "id": [f"XM{2025000 + i + 1}" for i in range(n)],
        "name": project_names(rng, zones["county"].to_numpy()[zi], sector),
        "zone_id": zones["zone_id"].to_numpy()[zi],
        "land_mu": land,
        "investment": np.round(land * intensity, 1),
        "value_added": np.round(va, 1),
        "tax": np.round(va * 0.25 * s["tax_per_va"].to_numpy() * rng.lognormal(0, 0.2, n), 1),
        "energy_tce": np.round(va / (TARGETS["va_per_tce"] * 1.1 * s["va_per_tce"].to_numpy()
                                     * rng.lognormal(0, 0.4, n)), 1),
    })
    for col, mix in zip(POLLUTANTS, ("mix_cod", "mix_nh3n", "mix_so2", "mix_nox")):
        out[col] = np.round(pollution * s[mix].to_numpy(), 4)
    out["fdi"] = rng.random(n) < 0.15
    return out


def calibration_table(df: pd.DataFrame) -> pd.DataFrame:
    """Achieved indicators: aggregate (Σ numerator / Σ denominator) and median over firms."""
    up, small = df[df["above_scale"]], df[~df["above_scale"]]
    emis = up[list(POLLUTANTS)].sum(axis=1, min_count=4)
    has = emis.notna()

    def ratio(label, num, den, target, scale=1.0):
        return (label, scale * num.sum() / den.sum(), scale * (num / den).median(), target)

    rows = [
        ratio("亩均税收 (万元/亩), 规上", up["tax"], up["land_mu"], "20–25.5"),
        ratio("亩均增加值 (万元/亩), 规上", up["value_added"], up["land_mu"], "100–136"),
        ratio("单位能耗增加值 (万元/tce), 规上", up["value_added"], up["energy_tce"], "1.1–2.7"),
        ratio("单位排放增加值 (万元/t), 规上", up.loc[has, "value_added"], emis[has], "600–5000"),
        ratio("全员劳动生产率 (万元/人), 规上", up["value_added"], up["employees"], "16–23.5"),
        ratio("R&D/主营业务收入 (%), 规上", up["rd_expense"], up["revenue"], "1.5–3.0", 100.0),
        ratio("亩均税收 (万元/亩), 规下", small["tax"], small["land_mu"], "≈ 11.6"),
        ratio("单位电耗税收 (万元/万kWh), 规下", small["tax"], small["electricity_10k_kwh"],
              "≈ 0.24 (Huangyan)"),
        ("用地面积 (亩/企业), all", df["land_mu"].mean(), df["land_mu"].median(),
         "≈ 30 (Lishui 32.2)"),
    ]
    return pd.DataFrame(rows, columns=["indicator", "aggregate", "median_firm", "target_range"])

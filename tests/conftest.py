"""Shared fixtures: a tiny but complete scenario on real files, and the CLI."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from optimizer.cli import main

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
DEMO = REPO / "data" / "demo"

SMALL_ENTERPRISES = """\
id,name,zone_id,county,sector,above_scale,land_mu,tax,value_added,revenue,rd_expense,employees,energy_tce,electricity_10k_kwh,cod_t,nh3n_t,so2_t,nox_t,fdi,veto
E01,甲精密机械有限公司,Z1,黄岩区,34,true,30,720,4000,20000,500,200,1500,400,1.0,0.1,0.5,0.6,false,
E02,乙化工有限公司,Z1,黄岩区,26,true,50,500,3000,18000,200,150,3000,900,4.0,0.4,2.0,2.5,false,
E03,丙电子有限公司,Z2,黄岩区,39,true,20,900,5000,25000,1000,250,800,300,0.3,0.05,0.1,0.2,true,
E04,丁塑料制品厂,Z2,黄岩区,29,false,8,60,300,2000,0,30,200,80,0.2,0.02,0.1,0.1,false,
E05,戊纺织有限公司,Z1,黄岩区,17,true,40,200,1500,9000,50,120,2500,700,3.0,0.3,1.5,1.8,false,
E06,己汽车配件有限公司,Z2,黄岩区,36,true,25,650,3500,16000,450,180,1000,350,0.8,0.08,0.4,0.5,false,
"""


def scenario_text(model: str = "huangyan-2022.toml", extra: str = "", *,
                  enterprises: str = "enterprises.csv", zones: bool = False) -> str:
    zones_line = 'zones = "zones.gpkg"\n' if zones else ""
    return textwrap.dedent(f"""\
        [scenario]
        name = "small"
        model = "{(MODELS / model).as_posix()}"
        enterprises = "{enterprises}"
        {zones_line}resources = ["land_mu", "energy_tce", "cod_t"]
        objective = "value_added"
        method = "lp"

        [caps.global]
        energy_tce = {{ factor = 0.97 }}
        """) + extra


@pytest.fixture
def small_case(tmp_path: Path) -> Path:
    """A folder with enterprises.csv and scenario.toml; returns the scenario path."""
    (tmp_path / "enterprises.csv").write_text(SMALL_ENTERPRISES, encoding="utf-8")
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(scenario_text(), encoding="utf-8")
    return scenario


@pytest.fixture
def small_zones(tmp_path: Path) -> Path:
    """zones.gpkg with Z1 and Z2 as two adjacent 1 km² squares near Taizhou (EPSG:4549)."""
    import geopandas as gpd
    from shapely.geometry import box

    x0, y0 = 500000.0, 3170000.0
    gdf = gpd.GeoDataFrame(
        {"zone_id": ["Z1", "Z2"], "name": ["一号园区", "二号园区"], "level": ["provincial"] * 2,
         "approved_area_ha": [100.0, 100.0]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000), box(x0 + 1000, y0, x0 + 2000, y0 + 1000)],
        crs="EPSG:4549").to_crs("EPSG:4326")
    path = tmp_path / "zones.gpkg"
    gdf.to_file(path, layer="zones", engine="pyogrio")
    return path


@pytest.fixture
def cli(capsys):
    """Run the real CLI entry point in-process: returns (exit_code, stdout, stderr)."""
    def invoke(*args: str):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return invoke

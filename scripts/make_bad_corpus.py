"""Build the bad-input corpus ``tests/data/bad/`` (issue 7), deterministically.

One folder per case: ``scenario.toml``, the input files it names, and
``case.toml`` declaring what MuJun must answer (exit code, fragments the
message must contain, the command). Tables are a few rows; zones layers are
tiny GeoJSON/FlatGeobuf files, so the whole corpus stays small. Rerunning the
script rewrites the same bytes (XLSX zip entries get a fixed timestamp).

    python scripts/make_bad_corpus.py [--out tests/data/bad]
"""

from __future__ import annotations

import argparse
import codecs
import io
import re
import shutil
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL = "../../../../models/huangyan-2022.toml"       # from tests/data/bad/<case>/

HEADER = ("id,name,zone_id,county,sector,above_scale,land_mu,tax,value_added,revenue,rd_expense,"
          "employees,energy_tce,electricity_10k_kwh,cod_t,nh3n_t,so2_t,nox_t,fdi,veto")
ROWS = [
    "E01,甲精密机械有限公司,Z1,黄岩区,34,true,30,720,4000,20000,500,200,1500,400,1.0,0.1,0.5,0.6,false,",
    "E02,乙化工有限公司,Z1,黄岩区,26,true,50,500,3000,18000,200,150,3000,900,4.0,0.4,2.0,2.5,false,",
    "E03,丙电子有限公司,Z2,黄岩区,39,true,20,900,5000,25000,1000,250,800,300,0.3,0.05,0.1,0.2,true,",
    "E04,丁塑料制品厂,Z2,黄岩区,29,false,8,60,300,2000,0,30,200,80,0.2,0.02,0.1,0.1,false,",
    "E05,戊纺织有限公司,Z1,黄岩区,17,true,40,200,1500,9000,50,120,2500,700,3.0,0.3,1.5,1.8,false,",
    "E06,己汽车配件有限公司,Z2,黄岩区,36,true,25,650,3500,16000,450,180,1000,350,0.8,0.08,0.4,0.5,false,",
]
ZH_HEADER = ("统一社会信用代码,企业名称,开发区代码,区县,行业代码,是否规上,用地面积(亩),实缴税金(万元),"
             "工业增加值(万元),主营业务收入(万元),研发经费(万元),年平均职工人数,综合能耗(吨标煤),"
             "用电量(万千瓦时),化学需氧量,氨氮,二氧化硫,氮氧化物,是否外资,一票否决")
P_HEADER = "id,name,zone_id,land_mu,investment,value_added,tax,energy_tce,cod_t,nh3n_t,so2_t,nox_t,fdi"
P_ROWS = [
    "P01,新建智能装备项目,Z1,20,8000,3000,600,500,0.2,0.02,0.1,0.2,false",
    "P02,外资电子项目,Z2,15,9000,2500,500,300,0.1,0.01,0.05,0.1,true",
]


def table(rows=ROWS, header=HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def edit(row: int, field: str, value: str, rows=ROWS, header=HEADER) -> list[str]:
    """The rows with one cell replaced (row is 0-based over data rows)."""
    names = header.split(",")
    out = [r.split(",") for r in rows]
    out[row][names.index(field)] = value
    return [",".join(r) for r in out]


def scenario(extra: str = "", *, enterprises: str = "enterprises.csv", lines: str = "",
             resources: str = '["land_mu", "energy_tce", "cod_t"]', model: str = MODEL,
             caps: str = "[caps.global]\nenergy_tce = { factor = 0.97 }\n") -> str:
    return (f'[scenario]\nname = "bad"\nmodel = "{model}"\nenterprises = "{enterprises}"\n'
            f"{lines}resources = {resources}\nobjective = \"value_added\"\nmethod = \"lp\"\n\n"
            f"{caps}{extra}")


def case_toml(description: str, exit_code: int, fragments: list[str], command: str = "run") -> str:
    frags = ", ".join(_toml_str(f) for f in fragments)
    return (f"description = {_toml_str(description)}\ncommand = \"{command}\"\n"
            f"exit_code = {exit_code}\nfragments = [{frags}]\n")


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------ layers

def zones_gdf(areas_ha=(100.0, 100.0), ids=("Z1", "Z2")):
    """Two adjacent 1 km² squares near Taizhou (drawn in EPSG:4549, stored in WGS 84)."""
    import geopandas as gpd
    from shapely.geometry import box

    x0, y0 = 500000.0, 3170000.0
    geoms = [box(x0 + 1000 * i, y0, x0 + 1000 * (i + 1), y0 + 1000) for i in range(len(ids))]
    return gpd.GeoDataFrame({"zone_id": list(ids), "name": [f"{i}园区" for i in ids],
                             "level": ["provincial"] * len(ids),
                             "approved_area_ha": list(areas_ha)},
                            geometry=geoms, crs="EPSG:4549").to_crs("EPSG:4326")


def write_geojson(gdf, path: Path) -> None:
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio", layer_options={
        "COORDINATE_PRECISION": "7", "RFC7946": "YES", "WRITE_NAME": "NO"})


def write_fgb_without_crs(gdf, path: Path) -> None:
    gdf.set_crs(None, allow_override=True).to_file(path, driver="FlatGeobuf", engine="pyogrio",
                                                    layer_options={"SPATIAL_INDEX": "NO"})


def parcels_gdf(outside: bool = False):
    """The six firms as 50 m parcels inside Z1/Z2, zone_id left empty (found by location)."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    frame = pd.read_csv(io.StringIO(table()), dtype=str, keep_default_na=False)
    frame["zone_id"] = ""
    x0, y0 = 500000.0, 3170000.0
    geoms = [box(x0 + 300 * i + 10, y0 + 10, x0 + 300 * i + 60, y0 + 60) for i in range(6)]
    if outside:
        geoms[0] = box(x0 + 5000, y0 + 5000, x0 + 5050, y0 + 5050)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4549").to_crs("EPSG:4326")


def raw_geojson(features: list[str]) -> str:
    return ('{"type": "FeatureCollection", "features": [\n' + ",\n".join(features) + "\n]}\n")


def feature(zone_id: str, area: str, geometry: str) -> str:
    return ('{"type": "Feature", "properties": {"zone_id": "%s", "name": "%s园区", '
            '"level": "provincial", "approved_area_ha": %s}, "geometry": %s}'
            % (zone_id, zone_id, area, geometry))


# ≈ the Z1 and Z2 squares in WGS 84 (5 decimals ≈ 1 m)
SQ1 = '{"type": "Polygon", "coordinates": [[[121.0, 28.64], [121.0103, 28.64], ' \
      '[121.0103, 28.649], [121.0, 28.649], [121.0, 28.64]]]}'
SQ2 = '{"type": "Polygon", "coordinates": [[[121.0103, 28.64], [121.0206, 28.64], ' \
      '[121.0206, 28.649], [121.0103, 28.649], [121.0103, 28.64]]]}'
BOWTIE = '{"type": "Polygon", "coordinates": [[[121.0, 28.64], [121.0103, 28.649], ' \
         '[121.0103, 28.64], [121.0, 28.649], [121.0, 28.64]]]}'
COLLAPSED = '{"type": "Polygon", "coordinates": [[[121.0, 28.64], [121.0103, 28.64], ' \
            '[121.0206, 28.64], [121.0, 28.64]]]}'
EMPTY = '{"type": "Polygon", "coordinates": []}'
POINT = '{"type": "Point", "coordinates": [121.01, 28.645]}'


# ------------------------------------------------------------------ xlsx

def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    stamp = datetime.datetime(2024, 1, 1)
    book.properties.created = book.properties.modified = stamp
    buf = io.BytesIO()
    book.save(buf)
    _fixed_zip(buf.getvalue(), path)


def _fixed_zip(data: bytes, path: Path) -> None:
    """Re-pack the workbook with fixed entry timestamps so reruns give the same bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            entry = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":     # openpyxl stamps "modified" on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z",
                              data)
            dst.writestr(entry, data)


def sheet_rows(rows=ROWS, header=HEADER) -> list[list]:
    out = [header.split(",")]
    for r in rows:
        cells = r.split(",")
        out.append([float(c) if 6 <= i <= 17 and _is_number(c) else c for i, c in enumerate(cells)])
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# ------------------------------------------------------------------ the cases

def enterprise_cases(c):
    c("ent-undecodable-bytes", "bytes that are neither UTF-8 nor GBK/GB18030",
      {"enterprises.csv": (table()[:200]).encode() + b"\xff\xfe\x80\x81\xff\n"}, scenario(), 2,
      ["enterprises.csv", "cannot decode", "GBK", "byte"])
    mixed = (table(ROWS[:3]).encode() + ROWS[3].encode("gbk") + b"\n"
             + "\n".join(ROWS[4:]).encode() + b"\n")
    c("ent-mixed-encoding", "a UTF-8 file with one row pasted from a GBK export", {"enterprises.csv": mixed},
      scenario(), 2, ["enterprises.csv", "cannot decode", "not UTF-8"])
    c("ent-bom-duplicate-id", "UTF-8 with BOM; the BOM must not hide the 'id' header",
      {"enterprises.csv": codecs.BOM_UTF8 + table([ROWS[0], ROWS[1].replace("E02", "E01")]).encode()},
      scenario(), 2, ["enterprises.csv", "row 3", "'id'", "duplicate id 'E01'"])
    c("ent-gbk-negative-land", "GBK file with Chinese headers and a negative 用地面积",
      {"enterprises.csv": table(edit(2, "land_mu", "-3"), ZH_HEADER).encode("gbk")}, scenario(), 2,
      ["enterprises.csv", "row 4", "'用地面积(亩)'", "≥ 0"])
    c("ent-utf16-bad-number", "UTF-16 (Excel 'Unicode text') with text in a number cell",
      {"enterprises.csv": table(edit(0, "tax", "约七百")).encode("utf-16")}, scenario(), 2,
      ["enterprises.csv", "row 2", "'tax'", "not a number"])
    c("ent-excel-unicode-text", "Excel 'Unicode text' export (UTF-16, tabs) with a bad value",
      {"enterprises.txt": table(edit(4, "energy_tce", "约2500")).replace(",", "\t").encode("utf-16")},
      scenario(enterprises="enterprises.txt"), 2,
      ["enterprises.txt", "row 6", "'energy_tce'", "not a number"])
    c("ent-excel-sep-hint", "Excel's 'sep=,' first line; rows count from it",
      {"enterprises.csv": "sep=,\r\n" + table(edit(1, "land_mu", "-1")).replace("\n", "\r\n")},
      scenario(), 2, ["enterprises.csv", "row 4", "'land_mu'", "≥ 0"])
    c("ent-semicolon-separated", "a semicolon-separated export with decimal commas",
      {"enterprises.csv": table([r.replace(",", ";").replace(";30;", ";30,5;") for r in ROWS],
                                HEADER.replace(",", ";"))}, scenario(), 2,
      ["enterprises.csv", "row 1", "semicolons", "decimal commas"])
    c("ent-duplicate-id", "the same id on two rows",
      {"enterprises.csv": table(ROWS + [ROWS[3].replace("丁", "庚")])}, scenario(), 2,
      ["enterprises.csv", "row 8", "'id'", "also on row 5"])
    c("ent-duplicate-id-whitespace", "ids differing only by surrounding spaces",
      {"enterprises.csv": table(edit(1, "id", "  E01 "))}, scenario(), 2,
      ["enterprises.csv", "row 3", "duplicate id", "also on row 2"])
    c("ent-duplicate-id-fullwidth", "an id in full-width characters (Ｅ０１)",
      {"enterprises.csv": table(edit(4, "id", "Ｅ０１"))}, scenario(), 2,
      ["enterprises.csv", "row 6", "duplicate id", "also on row 2"])
    c("ent-duplicate-id-ideographic-space", "an id with a trailing ideographic space (U+3000)",
      {"enterprises.csv": table(edit(5, "id", "E03\u3000"))}, scenario(), 2,
      ["enterprises.csv", "row 7", "duplicate id", "also on row 4"])
    c("ent-negative-tax", "negative tax paid", {"enterprises.csv": table(edit(0, "tax", "-720"))},
      scenario(), 2, ["enterprises.csv", "row 2", "'tax'", "≥ 0"])
    c("ent-nan-land", "NaN typed as land", {"enterprises.csv": table(edit(3, "land_mu", "NaN"))},
      scenario(), 2, ["enterprises.csv", "row 5", "'land_mu'", "not a number"])
    c("ent-inf-energy", "-inf energy use", {"enterprises.csv": table(edit(2, "energy_tce", "-inf"))},
      scenario(), 2, ["enterprises.csv", "row 4", "'energy_tce'", "finite"])
    c("ent-text-land", "Chinese numerals in a number column",
      {"enterprises.csv": table(edit(1, "land_mu", "五十"))}, scenario(), 2,
      ["enterprises.csv", "row 3", "'land_mu'", "not a number", "五十"])
    c("ent-absurd-land", "a 10^9 mu firm (unit error)",
      {"enterprises.csv": table(edit(0, "land_mu", "1000000000"))}, scenario(), 2,
      ["enterprises.csv", "row 2", "'land_mu'", "implausible"])
    c("ent-absurd-money", "value added in 元 instead of 万元 (10^13)",
      {"enterprises.csv": table(edit(4, "value_added", "15000000000000"))}, scenario(), 2,
      ["enterprises.csv", "row 6", "'value_added'", "implausible", "万元"])
    c("ent-zero-land", "zero land (per-mu indicators need land)",
      {"enterprises.csv": table(edit(5, "land_mu", "0"))}, scenario(), 2,
      ["enterprises.csv", "row 7", "'land_mu'", "> 0"])
    no_id = [",".join(r.split(",")[1:]) for r in ROWS]
    c("ent-missing-id-column", "no id column at all",
      {"enterprises.csv": table(no_id, HEADER.split(",", 1)[1])}, scenario(), 2,
      ["enterprises.csv", "row 1", "'id'", "required column"])
    c("ent-misspelt-header", "企业名陈 for 企业名称",
      {"enterprises.csv": table(ROWS, ZH_HEADER.replace("企业名称", "企业名陈")).encode("gbk")},
      scenario(), 2, ["enterprises.csv", "row 1", "'name'", "企业名陈"])
    c("ent-two-headers-one-field", "land_mu and 用地面积(亩) both present",
      {"enterprises.csv": table([r + ",30" for r in ROWS], HEADER + ",用地面积(亩)")}, scenario(), 2,
      ["enterprises.csv", "row 1", "both mean 'land_mu'"])
    c("ent-duplicate-header", "two land_mu columns (this year's and last year's)",
      {"enterprises.csv": table([r + ",999" for r in ROWS], HEADER + ",land_mu")}, scenario(), 2,
      ["enterprises.csv", "row 1", "'land_mu'", "appears twice", "columns 7 and 21"])
    c("ent-invalid-grade", "a planner-fixed grade outside A/B/C/D/U",
      {"enterprises.csv": table([r + ("," + ("A", "E", "", "b", "D", "优")[i]) for i, r in
                                 enumerate(ROWS)], HEADER + ",评价等级")}, scenario(), 2,
      ["enterprises.csv", "2 error(s)", "row 3", "row 7", "'评价等级'", "'E'", "'优'"], "validate")
    c("ent-empty-file", "a 0-byte file", {"enterprises.csv": b""}, scenario(), 2,
      ["enterprises.csv", "empty"])
    c("ent-blank-lines-only", "a file of blank lines", {"enterprises.csv": "\n\n  \n"}, scenario(), 2,
      ["enterprises.csv", "empty"])
    c("ent-header-only", "a header and no data rows", {"enterprises.csv": table([])}, scenario(), 2,
      ["enterprises.csv", "row 2", "no data rows"])
    c("ent-ragged-row", "a row with an extra unquoted comma in the name",
      {"enterprises.csv": table(edit(2, "name", "丙电子,有限公司"))}, scenario(), 2,
      ["enterprises.csv", "row 4", "not a valid CSV", "line 4"])
    c("ent-unknown-suffix", "a .dbf table is not a supported format",
      {"enterprises.dbf": table()}, scenario(enterprises="enterprises.dbf"), 2,
      ["enterprises.dbf", "unsupported", "CSV"])
    c("ent-legacy-xls", "a legacy .xls workbook", {"enterprises.xls": b"\xd0\xcf\x11\xe0" + b"\0" * 60},
      scenario(enterprises="enterprises.xls"), 2, ["enterprises.xls", ".xls", "xlsx"])
    c("ent-xlsx-missing-sheet", "enterprises_sheet names a sheet the workbook lacks",
      {"enterprises.xlsx": ("xlsx", {"企业2023": sheet_rows()})},
      scenario(enterprises="enterprises.xlsx", lines='enterprises_sheet = "企业2024"\n'), 2,
      ["enterprises.xlsx", "sheet '企业2024' not found", "企业2023"])
    c("ent-xlsx-text-in-number", "an XLSX cell with text where land is expected",
      {"enterprises.xlsx": ("xlsx", {"企业": sheet_rows(edit(3, "land_mu", "约8亩"))})},
      scenario(enterprises="enterprises.xlsx"), 2,
      ["enterprises.xlsx", "row 5", "'land_mu'", "not a number"])
    dup_rows = [row + [99.0] for row in sheet_rows()]
    dup_rows[0][-1] = "用地面积(亩)"
    dup_rows[0][6] = "用地面积(亩)"
    c("ent-xlsx-duplicate-header", "an XLSX with the same header twice",
      {"enterprises.xlsx": ("xlsx", {"企业": dup_rows})}, scenario(enterprises="enterprises.xlsx"),
      2, ["enterprises.xlsx", "row 1", "'用地面积(亩)'", "appears twice"])
    c("ent-xlsx-not-a-workbook", "a CSV renamed to .xlsx", {"enterprises.xlsx": table()},
      scenario(enterprises="enterprises.xlsx"), 2, ["enterprises.xlsx", "cannot open the workbook"])
    c("ent-zone-not-in-layer", "an enterprise in zone Z9, which the zones layer lacks",
      {"enterprises.csv": table(edit(3, "zone_id", "Z9")), "zones.geojson": ("zones", None)},
      scenario(lines='zones = "zones.geojson"\n'), 2,
      ["enterprises.csv", "row 5", "'zone_id'", "'Z9'", "zones.geojson"])
    c("ent-parcels-no-crs", "an enterprise parcel layer that declares no CRS",
      {"enterprises.fgb": ("parcels-fgb-nocrs", None), "zones.geojson": ("zones", None)},
      scenario(enterprises="enterprises.fgb", lines='zones = "zones.geojson"\n'), 2,
      ["enterprises.fgb", "parcels layer declares no CRS"])
    c("ent-parcel-outside-zones", "a firm without zone_id whose parcel lies in no zone",
      {"enterprises.geojson": ("parcels-outside", None), "zones.geojson": ("zones", None)},
      scenario(enterprises="enterprises.geojson", lines='zones = "zones.geojson"\n'), 2,
      ["enterprises.geojson", "row 2", "'zone_id'", "lies in no zone"])
    c("ent-empty-zone-no-layer", "an empty zone_id and no zones layer to find it",
      {"enterprises.csv": table(edit(1, "zone_id", ""))}, scenario(), 2,
      ["enterprises.csv", "row 3", "zone_id"])
    c("ent-several-errors", "three broken rules in one file, reported together",
      {"enterprises.csv": table(edit(0, "land_mu", "-1")[:1] + edit(1, "tax", "x")[1:2]
                                + edit(2, "fdi", "也许")[2:])}, scenario(), 2,
      ["enterprises.csv", "3 error(s)", "row 2", "row 3", "row 4", "'fdi'"])


def project_cases(c):
    with_projects = 'projects = "projects.csv"\n'
    c("proj-duplicate-id", "two projects with the same id",
      {"enterprises.csv": table(), "projects.csv": table(P_ROWS + [P_ROWS[0]], P_HEADER)},
      scenario(lines=with_projects), 2, ["projects.csv", "row 4", "'id'", "duplicate id"])
    c("proj-negative-investment", "negative investment",
      {"enterprises.csv": table(),
       "projects.csv": table(edit(1, "investment", "-9000", P_ROWS, P_HEADER), P_HEADER)},
      scenario(lines=with_projects), 2, ["projects.csv", "row 3", "'investment'", "≥ 0"])
    no_inv = [",".join(c for i, c in enumerate(r.split(",")) if i != 4) for r in P_ROWS]
    c("proj-missing-investment", "no investment column",
      {"enterprises.csv": table(),
       "projects.csv": table(no_inv, ",".join(h for h in P_HEADER.split(",") if h != "investment"))},
      scenario(lines=with_projects), 2, ["projects.csv", "row 1", "'investment'", "required column"])
    c("proj-header-only", "a project table with only its header",
      {"enterprises.csv": table(), "projects.csv": table([], P_HEADER)},
      scenario(lines=with_projects), 2, ["projects.csv", "row 2", "no data rows"])
    c("proj-zone-not-in-layer", "a project in a zone the layer lacks",
      {"enterprises.csv": table(), "zones.geojson": ("zones", None),
       "projects.csv": table(edit(1, "zone_id", "Z7", P_ROWS, P_HEADER), P_HEADER)},
      scenario(lines='zones = "zones.geojson"\n' + with_projects), 2,
      ["projects.csv", "row 3", "'Z7'", "zones.geojson"])
    c("proj-inf-land", "infinite project land",
      {"enterprises.csv": table(), "projects.csv": table(edit(0, "land_mu", "inf", P_ROWS, P_HEADER),
                                                          P_HEADER)},
      scenario(lines=with_projects), 2, ["projects.csv", "row 2", "'land_mu'", "finite"])


def zone_cases(c):
    zl = 'zones = "zones.geojson"\n'
    c("zones-no-crs", "a zones layer that declares no CRS (FlatGeobuf without SRS)",
      {"enterprises.csv": table(), "zones.fgb": ("zones-fgb-nocrs", None)},
      scenario(lines='zones = "zones.fgb"\n'), 2, ["zones.fgb", "declares no CRS"])
    c("zones-empty-geometry", "a zone whose boundary is an empty polygon",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([feature("Z1", "100", SQ1),
                                                                  feature("Z2", "100", EMPTY)])},
      scenario(lines=zl), 2, ["zones.geojson", "row 3", "'geometry'", "empty"])
    c("zones-null-geometry", "a zone without geometry",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([feature("Z1", "100", "null"),
                                                                  feature("Z2", "100", SQ2)])},
      scenario(lines=zl), 2, ["zones.geojson", "row 2", "'geometry'", "empty"])
    c("zones-collapsed-polygon", "a self-intersecting boundary with no area (collapses when repaired)",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([feature("Z1", "100", COLLAPSED),
                                                                  feature("Z2", "100", SQ2)])},
      scenario(lines=zl), 2, ["zones.geojson", "row 2", "'geometry'"])
    c("zones-bowtie-repaired", "a self-intersecting (bow-tie) boundary is repaired with a warning",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([feature("Z1", "100", BOWTIE),
                                                                  feature("Z2", "100", SQ2)])},
      scenario(lines=zl), 0, ["warning", "zones.geojson", "row 2", "Self-intersection", "make_valid"])
    c("zones-point-geometry", "a zone drawn as a point",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([feature("Z1", "100", SQ1),
                                                                  feature("Z2", "100", POINT)])},
      scenario(lines=zl), 2, ["zones.geojson", "row 3", "Point", "not a polygon"])
    c("zones-duplicate-id", "two zones with the same zone_id",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([feature("Z1", "100", SQ1),
                                                                  feature("Z1", "100", SQ2)])},
      scenario(lines=zl), 2, ["zones.geojson", "row 3", "'zone_id'", "twice"])
    c("zones-text-area", "approved area written as text",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([feature("Z1", '"一百"', SQ1),
                                                                  feature("Z2", "100", SQ2)])},
      scenario(lines=zl), 2, ["zones.geojson", "row 2", "'approved_area_ha'", "not a number"])
    c("zones-negative-area", "a negative approved area",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([feature("Z1", "100", SQ1),
                                                                  feature("Z2", "-5", SQ2)])},
      scenario(lines=zl), 2, ["zones.geojson", "row 3", "'approved_area_ha'", "negative"])
    c("zones-missing-area-column", "no approved_area_ha column",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([
          feature("Z1", "100", SQ1).replace('"approved_area_ha"', '"area"'),
          feature("Z2", "100", SQ2).replace('"approved_area_ha"', '"area"')])},
      scenario(lines=zl), 2, ["zones.geojson", "approved_area_ha", "required column"])
    c("zones-no-features", "a zones layer without any zone",
      {"enterprises.csv": table(), "zones.geojson": raw_geojson([])}, scenario(lines=zl), 2,
      ["zones.geojson", "no zone"])
    c("zones-not-a-layer", "a text file named .gpkg",
      {"enterprises.csv": table(), "zones.gpkg": "zone_id,name\nZ1,x\n"},
      scenario(lines='zones = "zones.gpkg"\n'), 2, ["zones.gpkg", "zones"])


def model_cases(c):
    def model_case(name, description, old, new, fragments):
        text = (REPO / "models" / "huangyan-2022.toml").read_text(encoding="utf-8")
        assert old in text, old
        c(name, description, {"enterprises.csv": table(), "model.toml": text.replace(old, new, 1)},
          scenario(model="model.toml"), 2, ["model.toml", *fragments])

    model_case("model-unknown-key", "weigth for weight", "weight = 30", "weigth = 30",
               ["weigth", "weight"])
    model_case("model-wrong-type", "a weight written as text", "weight = 30", 'weight = "三十"',
               ["weight", "三十"])
    model_case("model-shares-sum", "grade shares that do not sum to 1",
               "shares = { A = 0.20, B = 0.45", "shares = { A = 0.30, B = 0.45",
               ["shares", "sum to 1"])
    model_case("model-tier-lo-gt-hi", "a tier scale with lo > hi",
               'scale = [0.6, 0.9]', 'scale = [0.9, 0.6]', ["tiers.D", "scale"])
    model_case("model-missing-tier", "no [tiers.D]", "[tiers.D]", "[tiers.Dx]",
               ["tiers", "Dx"])
    model_case("model-unknown-column", "an indicator over a column that does not exist",
               'numerator = "rd_expense"', 'numerator = "rnd_expense"',
               ["rnd_expense", "rd_expense"])
    model_case("model-toml-syntax", "a broken TOML table header", "[grading]", "[grading",
               ["not valid TOML"])
    c("model-missing-file", "the scenario names a model file that does not exist",
      {"enterprises.csv": table()}, scenario(model="no-such-model.toml"), 2,
      ["scenario.toml", "scenario.model", "not found", "no-such-model.toml"])


def scenario_cases(c):
    ent = {"enterprises.csv": table()}
    c("scn-wrong-type", "method given as a number", ent,
      scenario().replace('method = "lp"', "method = 3"), 2, ["scenario.toml", "scenario.method"])
    c("scn-wrong-type-factor", "a cap factor written as text", ent,
      scenario(caps='[caps.global]\nenergy_tce = { factor = "0.97" }\n'), 2,
      ["scenario.toml", "caps.global.energy_tce.factor"])
    c("scn-unknown-key", "an unknown key in [scenario]", ent,
      scenario(lines='time_limit = 10\n'), 2, ["scenario.toml", "time_limit", "time_limit_s"])
    c("scn-unknown-section", "[intensty] for [intensity]", ent,
      scenario("\n[intensty]\nenergy_per_value = { factor = 0.9 }\n"), 2,
      ["scenario.toml", "intensty", "`intensity`"])
    c("scn-circular-extends", "a scenario that extends itself through another", {
        **ent, "other.toml": '[scenario]\nextends = "scenario.toml"\n'},
      scenario(lines='extends = "other.toml"\n'), 2, ["circular", "scenario.toml", "other.toml"])
    c("scn-extends-missing", "extends names a file that does not exist", ent,
      scenario(lines='extends = "parent.toml"\n'), 2, ["parent.toml", "not found"])
    c("scn-missing-enterprises", "the enterprise table does not exist", {},
      scenario(enterprises="enterprises-2023.csv"), 2,
      ["scenario.toml", "scenario.enterprises", "not found", "enterprises-2023.csv"])
    c("scn-path-is-directory", "the enterprise path is a folder", {"tables/README.txt": "x\n"},
      scenario(enterprises="tables"), 2, ["scenario.toml", "scenario.enterprises", "directory"])
    c("scn-sweep-unknown-key", "a sweep over a key that does not exist", ent,
      scenario('\n[sweep]\nkey = "caps.global.energy.factor"\nvalues = [0.9, 1.0]\n'), 2,
      ["scenario.toml", "caps.global.energy.factor", "energy_tce"])
    c("scn-variant-unknown-key", "a variant setting a key that does not exist", ent,
      scenario('\n[[variants]]\nname = "v1"\nset = { "tiers.D.scales" = [0.4, 0.7] }\n'), 2,
      ["scenario.toml", "tiers.D.scales", "`scale`"])
    c("scn-variant-wrong-type", "a variant giving a factor as text", ent,
      scenario('\n[[variants]]\nname = "v1"\nset = { "caps.global.energy_tce.factor" = "low" }\n'),
      2, ["scenario.toml", "variants[0]", "caps.global.energy_tce.factor"])
    c("scn-tier-scale-lo-gt-hi", "[tiers.D] scale with lo > hi", ent,
      scenario("\n[tiers.D]\nscale = [0.9, 0.5]\n"), 2,
      ["scenario.toml", "[tiers.D]", "scale = [0.9, 0.5]", "s_lo ≤ s_hi"])
    c("scn-tier-quota-lo-gt-hi", "[tiers.A] quota with lo > hi", ent,
      scenario("\n[tiers.A]\nquota = { land_mu = [1.3, 1.0] }\n"), 2,
      ["scenario.toml", "[tiers.A]", "quota.land_mu = [1.3, 1.0]"])
    c("scn-variant-tier-lo-gt-hi", "a variant whose D scale has lo > hi", ent,
      scenario('\n[[variants]]\nname = "harsh"\nset = { "tiers.D.scale" = [0.7, 0.4] }\n'), 2,
      ["scenario.toml", "run 'harsh'", "[tiers.D]", "scale = [0.7, 0.4]"])
    c("scn-efficiency-above-1", "an efficiency gain of 150 %", ent,
      scenario("\n[tiers.C]\nefficiency = { energy_tce = 1.5 }\n"), 2,
      ["scenario.toml", "[tiers.C]", "efficiency.energy_tce = 1.5"])
    c("scn-negative-cap", "a negative absolute cap", ent,
      scenario(caps="[caps.global]\nenergy_tce = { absolute = -10.0 }\n"), 2,
      ["scenario.toml", "caps.global.energy_tce.absolute"])
    c("scn-unknown-solver", "a solver that does not exist", ent,
      scenario(lines='solver = "gurobi:barrier"\n'), 2,
      ["scenario.toml", "'scenario.solver'", "gurobi:barrier", "valid solvers"])
    c("scn-gbk-encoding", "a scenario saved as GBK by a Chinese Windows editor", ent,
      scenario(lines='description = "黄岩区基准情景"\n').encode("gbk"), 2,
      ["scenario.toml", "not UTF-8", "save the scenario file as UTF-8"])
    c("scn-grade-command-bad-table", "mujun grade on a table with a negative land value",
      {"enterprises.csv": table(edit(1, "land_mu", "-2"))}, scenario(), 2,
      ["enterprises.csv", "row 3", "'land_mu'"], "grade")
    c("scn-boundaries-without-zones", "mujun boundaries on a scenario without a zones layer", ent,
      scenario(), 2, ["scenario.toml", "scenario.zones", "needs zones"], "boundaries")
    loss_making = ROWS
    for i, row in enumerate(ROWS):
        loss_making = edit(i, "value_added", "-" + row.split(",")[8], loss_making)
    c("scn-cap-on-unchosen-resource", "an energy cap although energy is not allocated", ent,
      scenario(resources='["land_mu", "cod_t"]'), 2,
      ["scenario.toml", "'caps.global.energy_tce'", "not in `scenario.resources`"])
    c("scn-intensity-without-energy", "an energy-intensity target without energy_tce", ent,
      scenario("\n[intensity]\nenergy_per_value = { factor = 0.95 }\n",
               resources='["land_mu", "cod_t"]', caps=""), 2,
      ["scenario.toml", "'intensity.energy_per_value'", "needs energy_tce"])
    c("scn-intensity-all-loss-making", "a relative intensity target when total value added ≤ 0",
      {"enterprises.csv": table(loss_making)},
      scenario("\n[intensity]\nenergy_per_value = { factor = 0.95 }\n"), 2,
      ["'intensity.energy_per_value'", "positive total value added", "absolute"])
    c("scn-toml-syntax", "an unterminated string", ent,
      scenario().replace('name = "bad"', 'name = "bad'), 2, ["scenario.toml", "not valid TOML"])
    c("scn-boundary-without-zones", "land caps from boundaries but no zones layer", ent,
      scenario('\n[caps.zone]\nland_mu = "boundary"\n'), 2,
      ["scenario.toml", "caps.zone.land_mu", "scenario.zones"])
    c("scn-unknown-resource", "a resource outside the contract", ent,
      scenario(resources='["land_mu", "water_t"]'), 2, ["scenario.toml", "scenario.resources", "water_t"])


def infeasible_cases(c):
    ent = {"enterprises.csv": table()}
    c("inf-floors-above-global-cap", "tier floors need more energy than the global cap allows", ent,
      scenario(caps="[caps.global]\nenergy_tce = { absolute = 2000.0 }\n"), 1,
      ["infeasible", "energy cap 2,000 tce", "below the 7,765 tce", "C 4,400"])
    c("inf-intensity-unreachable", "an energy-intensity target no allocation can reach", ent,
      scenario("\n[intensity]\nenergy_per_value = { factor = 0.3 }\n"), 1,
      ["infeasible", "θ = 0.1561 tce/万元", "5,249 tce"])
    c("inf-zone-land-below-floors", "zone Z1's approved area is below what its A/B floors guarantee",
      {**ent, "zones.geojson": ("zones", (4.0, 100.0))},
      scenario('\n[caps.zone]\nland_mu = "boundary"\n', lines='zones = "zones.geojson"\n'), 1,
      ["infeasible", "zone Z1 Z1园区: land cap 60 mu", "below the 100 mu", "raise the cap by 40 mu"])
    c("inf-zone-energy-cap", "a zone energy cap of 30 % of today's use", ent,
      scenario("\n[caps.zone]\nenergy_tce = { factor = 0.3 }\n"), 1,
      ["zone Z1: energy cap 2,100 tce", "5,825 tce", "zone Z2: energy cap 600 tce", "1,940 tce"])


GENERATED = {
    "parcels-outside": lambda path, arg: write_geojson(parcels_gdf(outside=True), path),
    "parcels-fgb-nocrs": lambda path, arg: write_fgb_without_crs(parcels_gdf(), path),
    "zones": lambda path, arg: write_geojson(zones_gdf(arg or (100.0, 100.0)), path),
    "zones-fgb-nocrs": lambda path, arg: write_fgb_without_crs(zones_gdf(), path),
    "xlsx": lambda path, arg: write_xlsx(path, arg),
}


def build(out: Path) -> int:
    if out.exists():
        shutil.rmtree(out)
    names = []

    def c(name, description, files, scenario_text, exit_code, fragments, command="run"):
        folder = out / name
        folder.mkdir(parents=True)
        for rel, content in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, tuple):
                GENERATED[content[0]](path, content[1])
            else:
                path.write_bytes(content if isinstance(content, bytes) else content.encode())
        (folder / "scenario.toml").write_bytes(scenario_text if isinstance(scenario_text, bytes)
                                               else scenario_text.encode("utf-8"))
        (folder / "case.toml").write_text(case_toml(description, exit_code, fragments, command),
                                          encoding="utf-8", newline="\n")
        names.append(name)

    for group in (enterprise_cases, project_cases, zone_cases, model_cases, scenario_cases,
                  infeasible_cases):
        group(c)
    return len(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "bad")
    args = parser.parse_args()
    n = build(args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{n} cases, {size:,} bytes → {args.out}")


if __name__ == "__main__":
    main()

"""The data contract of SPEC §2: canonical columns, Chinese aliases, rules.

After reading and validation every enterprise table is a pandas DataFrame with
these canonical columns (in this order, extra columns kept after them):

- str columns (never NaN; "" when absent): id, name, zone_id, county, sector, veto, grade
- bool columns: above_scale (default True), fdi (default False), new_firm (default False)
- float64 columns (NaN = missing value): land_mu, tax, value_added, revenue,
  rd_expense, employees, energy_tce, electricity_10k_kwh, cod_t, nh3n_t, so2_t, nox_t
- ``source_row``: int, the spreadsheet row of the record (header = row 1)

A GeoDataFrame keeps its ``geometry`` (parcels) as well.
"""

from __future__ import annotations

from dataclasses import dataclass


# The largest Zhejiang zone in the 2018 catalogue is about 9,000 ha (135,000 mu); one
# enterprise holding more than 100,000 mu (~67 km²) is a unit or typing error.
PLAUSIBLE_MAX_LAND_MU = 100_000.0
# 10^9 万元 = 10^13 CNY, larger than Zhejiang's GDP: a typing error in any money column.
PLAUSIBLE_MAX_MONEY_WAN = 1e9


@dataclass(frozen=True)
class Column:
    name: str
    kind: str                     # "str" | "bool" | "float"
    aliases: tuple[str, ...] = ()
    required: bool = False
    unique: bool = False
    min_value: float | None = None   # inclusive lower bound for numbers
    positive: bool = False           # strictly > 0 (per-mu ratios need land)
    max_value: float | None = None   # plausibility ceiling: larger is a typing error
    default: object = None
    unit: str = ""
    label_zh: str = ""


ENTERPRISE_COLUMNS: tuple[Column, ...] = (
    Column("id", "str", ("统一社会信用代码", "企业代码"), required=True, unique=True, label_zh="企业代码"),
    Column("name", "str", ("企业名称",), required=True, label_zh="企业名称"),
    Column("zone_id", "str", ("开发区代码",), required=True, label_zh="开发区代码"),
    Column("county", "str", ("区县",), default="", label_zh="区县"),
    Column("sector", "str", ("行业代码",), default="", label_zh="行业代码"),
    Column("above_scale", "bool", ("是否规上",), default=True, label_zh="是否规上"),
    Column("land_mu", "float", ("用地面积(亩)", "用地面积（亩）"), required=True, min_value=0.0,
           positive=True, max_value=PLAUSIBLE_MAX_LAND_MU, unit="mu", label_zh="用地面积"),
    Column("tax", "float", ("实缴税金(万元)", "实缴税金（万元）"), min_value=0.0, unit="万元",
           label_zh="实缴税金"),
    Column("value_added", "float", ("工业增加值(万元)", "工业增加值（万元）"), unit="万元",
           label_zh="工业增加值"),
    Column("revenue", "float", ("主营业务收入(万元)", "主营业务收入（万元）"), min_value=0.0,
           unit="万元", label_zh="主营业务收入"),
    Column("rd_expense", "float", ("研发经费(万元)", "研发经费（万元）"), min_value=0.0, unit="万元",
           label_zh="研发经费"),
    Column("employees", "float", ("年平均职工人数",), min_value=0.0, unit="人",
           label_zh="年平均职工人数"),
    Column("energy_tce", "float", ("综合能耗(吨标煤)", "综合能耗（吨标煤）"), min_value=0.0,
           unit="tce", label_zh="综合能耗"),
    Column("electricity_10k_kwh", "float", ("用电量(万千瓦时)", "用电量（万千瓦时）"),
           min_value=0.0, unit="万kWh", label_zh="用电量"),
    Column("cod_t", "float", ("化学需氧量",), min_value=0.0, unit="t", label_zh="化学需氧量"),
    Column("nh3n_t", "float", ("氨氮",), min_value=0.0, unit="t", label_zh="氨氮"),
    Column("so2_t", "float", ("二氧化硫",), min_value=0.0, unit="t", label_zh="二氧化硫"),
    Column("nox_t", "float", ("氮氧化物",), min_value=0.0, unit="t", label_zh="氮氧化物"),
    Column("fdi", "bool", ("是否外资",), default=False, label_zh="是否外资"),
    Column("veto", "str", ("一票否决",), default="", label_zh="一票否决"),
    Column("grade", "str", ("评价等级",), default="", label_zh="评价等级"),
    Column("new_firm", "bool", ("是否新企业", "新企业"), default=False, label_zh="新企业"),
)

PROJECT_COLUMNS: tuple[Column, ...] = (
    Column("id", "str", ("项目代码",), required=True, unique=True, label_zh="项目代码"),
    Column("name", "str", ("项目名称",), required=True, label_zh="项目名称"),
    Column("zone_id", "str", ("开发区代码",), required=True, label_zh="开发区代码"),
    Column("land_mu", "float", ("用地面积(亩)", "用地面积（亩）"), required=True, min_value=0.0,
           positive=True, max_value=PLAUSIBLE_MAX_LAND_MU, unit="mu", label_zh="用地面积"),
    Column("investment", "float", ("投资额(万元)", "总投资(万元)", "固定资产投资(万元)"),
           required=True, min_value=0.0, unit="万元", label_zh="投资额"),
    Column("value_added", "float", ("工业增加值(万元)", "预计增加值(万元)"), required=True,
           unit="万元", label_zh="工业增加值"),
    Column("tax", "float", ("实缴税金(万元)", "预计税收(万元)"), min_value=0.0, default=0.0,
           unit="万元", label_zh="税收"),
    Column("energy_tce", "float", ("综合能耗(吨标煤)",), min_value=0.0, default=0.0, unit="tce",
           label_zh="综合能耗"),
    Column("cod_t", "float", ("化学需氧量",), min_value=0.0, default=0.0, unit="t"),
    Column("nh3n_t", "float", ("氨氮",), min_value=0.0, default=0.0, unit="t"),
    Column("so2_t", "float", ("二氧化硫",), min_value=0.0, default=0.0, unit="t"),
    Column("nox_t", "float", ("氮氧化物",), min_value=0.0, default=0.0, unit="t"),
    Column("fdi", "bool", ("是否外资",), default=False, label_zh="是否外资"),
)

ZONE_COLUMNS: tuple[Column, ...] = (
    Column("zone_id", "str", ("开发区代码", "code"), required=True, unique=True),
    Column("name", "str", ("开发区名称",), default=""),
    Column("level", "str", ("级别",), default=""),
    Column("approved_area_ha", "float", ("核准面积(公顷)", "area_ha"), required=True, min_value=0.0,
           unit="ha"),
)

NUMERIC_ENTERPRISE_COLUMNS = tuple(c.name for c in ENTERPRISE_COLUMNS if c.kind == "float")

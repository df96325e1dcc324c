"""Bilingual (中文 / English) labels with units for report headers.

A header reads ``中文(单位) / column``, e.g. ``用地·配置后(亩) / land_mu_after``:
decision makers read the Chinese, analysts find the CSV column name. Unknown
columns (a new KPI, a model's own indicator) keep their English name, so a new
key is rendered rather than dropped.
"""

from __future__ import annotations

import re

from optimizer.policy import RESOURCE_LABELS_ZH, RESOURCES

UNITS_ZH = {"land_mu": "亩", "energy_tce": "吨标煤", "cod_t": "吨", "nh3n_t": "吨", "so2_t": "吨",
            "nox_t": "吨"}
GRADE_LABELS_ZH = {"A": "A类", "B": "B类", "C": "C类", "D": "D类", "U": "未评价"}
STAGE_ZH = {"before": "现状", "after": "配置后"}

# column -> (Chinese label, unit); the unit may be "".
FIXED = {
    "variant": ("方案", ""), "status": ("求解状态", ""), "method": ("方法", ""),
    "solver": ("求解器", ""), "objective": ("目标值", "万元"),
    "id": ("编号", ""), "name": ("名称", ""), "zone_id": ("开发区", ""),
    "grade": ("等级", ""), "score": ("综合得分", "分"), "scale": ("生产规模系数", ""),
    "value_before": ("增加值·现状", "万元"), "value_after": ("增加值·配置后", "万元"),
    "binding": ("约束原因", ""), "resource": ("资源", ""), "unit": ("单位", ""),
    "before": ("现状", ""), "after": ("配置后", ""), "cap": ("上限", ""),
    "shadow_price": ("影子价格", "万元/单位"), "investment_intensity": ("投资强度", "万元/亩"),
    "eligible": ("符合准入", ""), "reason": ("说明", ""), "admitted_share": ("准入比例", ""),
    "group": ("评价分组", ""), "above_scale": ("规上", ""), "rank_in_group": ("组内排名", ""),
    "label": ("档次名称", ""), "scale_lo": ("规模下限", ""), "scale_hi": ("规模上限", ""),
    "weight": ("目标权重", ""), "exit_allowed": ("允许腾退", ""),
    "land_tax_relief": ("土地使用税减免比例", ""),
    "electricity_surcharge_yuan_per_kwh": ("差别电价加价", "元/千瓦时"),
    "approved_area_mu": ("核准面积", "亩"), "boundary_area_mu": ("四至范围面积", "亩"),
    "occupied_mu": ("已占用地", "亩"), "protected_mu": ("保护用地", "亩"),
    "reserve_mu": ("非工业预留", "亩"), "land_cap_mu": ("用地上限", "亩"),
    "violations": ("越界情况", ""), "outside_area_mu": ("四至外面积", "亩"),
    "outside_mu": ("四至外面积", "亩"), "sizhi": ("四至", ""), "key": ("项目", ""),
    "value": ("值", ""),
    # KPIs (summary.json "kpis")
    "value_added_before": ("增加值·现状", "万元"), "value_added_after": ("增加值·配置后", "万元"),
    "tax_before": ("税收·现状", "万元"), "tax_after": ("税收·配置后", "万元"),
    "energy_per_value_before": ("单位增加值能耗·现状", "吨标煤/万元"),
    "energy_per_value_after": ("单位增加值能耗·配置后", "吨标煤/万元"),
    "emission_per_value_before": ("单位增加值排放·现状", "吨/万元"),
    "emission_per_value_after": ("单位增加值排放·配置后", "吨/万元"),
    "value_per_mu_before": ("亩均增加值·现状", "万元/亩"),
    "value_per_mu_after": ("亩均增加值·配置后", "万元/亩"),
    "tax_per_mu_before": ("亩均税收·现状", "万元/亩"), "tax_per_mu_after": ("亩均税收·配置后", "万元/亩"),
    "projects_admitted": ("准入项目", "个"), "projects_eligible": ("符合条件项目", "个"),
    "land_to_projects_mu": ("新项目用地", "亩"),
}
# Common indicator keys of models/*.toml (亩均效益评价指标).
INDICATORS_ZH = {
    "tax_per_mu": "亩均税收", "value_added_per_mu": "亩均增加值", "va_per_mu": "亩均增加值",
    "value_added_per_energy": "单位能耗增加值", "va_per_energy": "单位能耗增加值",
    "value_added_per_emission": "单位排放增加值", "va_per_emission": "单位排放增加值",
    "labour_productivity": "全员劳动生产率", "labor_productivity": "全员劳动生产率",
    "va_per_employee": "全员劳动生产率", "rd_intensity": "研发强度",
    "tax_per_electricity": "单位电耗税收",
}
_PART_ZH = {"value": "值", "benchmark": "基准", "points": "得分"}


# zones.csv rows that are not a resource cap: the 单位增加值能耗 (θ) target.
OTHER_CAPS_ZH = {"energy_intensity": "能耗强度"}


def resource_label(resource: str) -> str:
    return RESOURCE_LABELS_ZH.get(resource, OTHER_CAPS_ZH.get(resource, resource))


def zh_label(col: str) -> tuple[str, str]:
    """(Chinese label, unit) for a column; ("", "") when unknown."""
    if col in FIXED:
        return FIXED[col]
    return _pattern_label(col)


def _pattern_label(col: str) -> tuple[str, str]:
    for r in RESOURCES:
        if col.startswith(r + "_"):
            rest = col[len(r) + 1:]
            unit = UNITS_ZH[r]
            parts = {"before": ("现状", unit), "after": ("配置后", unit), "change_pct": ("变化", "%"),
                     "quota_lo": ("配额下限倍数", ""), "quota_hi": ("配额上限倍数", ""),
                     "efficiency": ("效率提升要求", "")}
            if rest in parts:
                label, u = parts[rest]
                return f"{resource_label(r)}·{label}", u
    m = re.fullmatch(r"count_([A-Z])", col)
    if m:
        return f"{GRADE_LABELS_ZH.get(m[1], m[1] + '类')}企业数", "家"
    m = re.fullmatch(r"gini_change_(\w+)", col)
    if m:
        return f"{resource_label(m[1])}配额变化基尼系数", ""
    m = re.fullmatch(r"surcharge_revenue_wan_(\w+)", col)
    if m:
        return f"{GRADE_LABELS_ZH.get(m[1], m[1])}差别电价收入", "万元"
    m = re.fullmatch(r"land_tax_relief_wan_(\w+)", col)
    if m:
        return f"{GRADE_LABELS_ZH.get(m[1], m[1])}土地使用税减免", "万元"
    m = re.fullmatch(r"(\w+?)_(value|benchmark|points)", col)
    if m and m[1] in INDICATORS_ZH:
        return f"{INDICATORS_ZH[m[1]]}·{_PART_ZH[m[2]]}", ""
    return "", ""


def header(col: str) -> str:
    """``中文(单位) / col``, or ``col`` alone when no Chinese label is known.

    ``column@variant`` (a per-variant column of a wide table) reads
    ``中文(单位) [variant] / column``.
    """
    if "@" in col:
        base, variant = col.split("@", 1)
        zh, unit = zh_label(base)
        label = f"{zh}({unit})" if zh and unit else zh
        return f"{label} [{variant}] / {base}" if label else f"{base} [{variant}]"
    zh, unit = zh_label(col)
    if not zh:
        return col
    return f"{zh}({unit}) / {col}" if unit else f"{zh} / {col}"


def kpi_sort_key(key: str) -> tuple:
    """Fixed KPI order: the documented keys first, then pattern families, then the rest."""
    if key in KPI_ORDER:
        return (0, KPI_ORDER.index(key), "")
    for family, prefix in enumerate(KPI_FAMILIES):
        if key.startswith(prefix):
            suffix = key[len(prefix):]
            return (1 + family, _suffix_rank(suffix), suffix)
    return (1 + len(KPI_FAMILIES), 0, key)


def _suffix_rank(suffix: str) -> int:
    order = list(RESOURCES) + ["A", "B", "C", "D", "U"]
    return order.index(suffix) if suffix in order else len(order)


KPI_ORDER = [
    "value_added_before", "value_added_after", "tax_before", "tax_after",
    "energy_per_value_before", "energy_per_value_after",
    "emission_per_value_before", "emission_per_value_after",
    "value_per_mu_before", "value_per_mu_after", "tax_per_mu_before", "tax_per_mu_after",
]
KPI_FAMILIES = ["gini_change_", "count_", "surcharge_revenue_wan_", "land_tax_relief_wan_",
                "projects_", "land_to_projects_"]

"""Manufacturing sectors (GB/T 4754-2017 two-digit codes) for the demo enterprises.

Per-sector factors are relative (1.0 = the manufacturing average): value added per mu,
tax per value added, value added per tce, value added per tonne of pollutants, labour
productivity and R&D intensity; the pollutant mix splits a firm's emissions into COD,
NH3-N, SO2 and NOx; `elec_share` is the share of energy (tce) taken as electricity.
The factors are rough orders of magnitude from sector profiles (heavy chemicals, dyeing
and metals are energy and emission intensive; electronics and instruments are not);
the generator recalibrates the totals to the published Zhejiang figures afterwards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# code: (name word(s) for firm names, va_per_mu, tax_per_va, va_per_tce, va_per_pollutant,
#        productivity, rd_share, elec_share, pollutant mix COD/NH3N/SO2/NOx)
_TABLE = {
    "13": ("食品|粮油", 0.8, 0.9, 1.2, 0.5, 0.9, 0.6, 0.55, (0.70, 0.08, 0.10, 0.12)),
    "15": ("酒业|饮品", 1.1, 1.6, 1.3, 0.5, 1.0, 0.5, 0.50, (0.72, 0.06, 0.10, 0.12)),
    "17": ("纺织|印染", 0.8, 0.8, 0.6, 0.3, 0.7, 0.6, 0.50, (0.62, 0.08, 0.12, 0.18)),
    "18": ("服饰|服装", 0.9, 0.9, 2.5, 2.0, 0.6, 0.5, 0.85, (0.50, 0.05, 0.15, 0.30)),
    "19": ("鞋业|皮革", 0.9, 0.9, 2.0, 0.8, 0.6, 0.5, 0.80, (0.60, 0.10, 0.10, 0.20)),
    "20": ("木业|竹木", 0.7, 0.9, 1.2, 1.0, 0.8, 0.6, 0.65, (0.30, 0.03, 0.27, 0.40)),
    "21": ("家具|家居", 0.8, 0.9, 1.8, 1.5, 0.8, 0.8, 0.80, (0.30, 0.03, 0.22, 0.45)),
    "22": ("纸业|包装", 0.8, 0.9, 0.5, 0.3, 1.1, 0.6, 0.40, (0.65, 0.06, 0.12, 0.17)),
    "24": ("文具|工艺品", 0.9, 0.9, 2.2, 2.0, 0.7, 0.7, 0.85, (0.40, 0.04, 0.20, 0.36)),
    "26": ("化工|新材料", 1.4, 1.3, 0.5, 0.4, 1.6, 1.1, 0.35, (0.45, 0.10, 0.20, 0.25)),
    "27": ("药业|生物医药", 1.6, 1.5, 1.4, 0.6, 1.5, 1.8, 0.55, (0.68, 0.12, 0.08, 0.12)),
    "28": ("化纤|新纤维", 1.0, 0.9, 0.5, 0.4, 1.4, 0.7, 0.45, (0.45, 0.05, 0.20, 0.30)),
    "29": ("塑业|橡塑", 0.9, 0.9, 1.1, 1.5, 0.9, 0.8, 0.85, (0.35, 0.03, 0.22, 0.40)),
    "30": ("建材|新型建材", 0.8, 1.0, 0.35, 0.25, 1.1, 0.6, 0.30, (0.05, 0.01, 0.40, 0.54)),
    "31": ("钢业|特钢", 1.0, 0.9, 0.3, 0.3, 1.5, 0.6, 0.40, (0.05, 0.01, 0.40, 0.54)),
    "32": ("铜业|有色金属", 1.0, 0.8, 0.5, 0.5, 1.6, 0.7, 0.55, (0.15, 0.02, 0.40, 0.43)),
    "33": ("五金|金属制品", 0.9, 0.9, 1.2, 1.2, 0.9, 0.8, 0.85, (0.40, 0.05, 0.20, 0.35)),
    "34": ("精密机械|通用设备", 1.0, 1.0, 1.8, 2.0, 1.0, 1.1, 0.90, (0.35, 0.03, 0.22, 0.40)),
    "35": ("智能装备|专用设备", 1.1, 1.0, 2.0, 2.0, 1.1, 1.3, 0.90, (0.35, 0.03, 0.22, 0.40)),
    "36": ("汽车零部件|汽配", 1.2, 1.0, 1.8, 1.8, 1.1, 1.1, 0.88, (0.35, 0.03, 0.22, 0.40)),
    "38": ("电气|电机", 1.2, 1.0, 2.2, 2.5, 1.1, 1.1, 0.92, (0.35, 0.03, 0.22, 0.40)),
    "39": ("电子|光电", 1.4, 1.0, 2.4, 2.5, 1.2, 1.6, 0.95, (0.45, 0.05, 0.15, 0.35)),
    "40": ("仪表|仪器", 1.3, 1.1, 2.6, 3.0, 1.2, 1.6, 0.95, (0.40, 0.04, 0.18, 0.38)),
    "42": ("再生资源|环保", 0.8, 0.8, 0.9, 0.6, 1.0, 0.8, 0.70, (0.50, 0.08, 0.15, 0.27)),
}

SECTORS = pd.DataFrame(
    [(code, words, *rest[:6], rest[6], *rest[7]) for code, (words, *rest) in _TABLE.items()],
    columns=["sector", "words", "va_per_mu", "tax_per_va", "va_per_tce", "va_per_pollutant",
             "productivity", "rd_share", "elec_share", "mix_cod", "mix_nh3n", "mix_so2", "mix_nox"],
).set_index("sector")
SECTORS[["word1", "word2"]] = SECTORS["words"].str.split("|", expand=True)

# Leading-industry keywords of the catalogue → sector codes (first match wins per keyword).
_KEYWORDS = (
    ("汽车", "36"), ("汽摩", "36"), ("汽配", "36"), ("电子", "39"), ("信息", "39"),
    ("通信", "39"), ("集成电路", "39"), ("光电", "39"), ("激光", "39"), ("磁性", "39"),
    ("电气", "38"), ("电机", "38"), ("家用电器", "38"), ("家电", "38"), ("电器", "38"),
    ("照明", "38"), ("新能源", "38"), ("装备", "34/35"), ("专用设备", "35"), ("环保", "35"),
    ("通用设备", "34"), ("机械", "34"), ("泵阀", "34"), ("轴承", "34"), ("五金", "33"),
    ("金属制品", "33"), ("紧固件", "33"), ("不锈钢", "33"), ("医药", "27"), ("生物", "27"),
    ("生命", "27"), ("化工", "26"), ("新材料", "26"), ("合成革", "26"), ("日用化工", "26"),
    ("化学", "26"), ("化纤", "28"), ("纺织", "17"), ("印染", "17"), ("经编", "17"),
    ("针织", "17"), ("服装", "18"), ("鞋", "19"), ("皮革", "19"), ("塑料", "29"),
    ("橡胶", "29"), ("橡塑", "29"), ("模塑", "29"), ("家具", "21"), ("木", "20"),
    ("竹", "20"), ("纸", "22"), ("文具", "24"), ("工艺", "24"), ("文教", "24"),
    ("建材", "30"), ("非金属", "30"), ("钢", "31"), ("有色", "32"), ("食品", "13"),
    ("农副", "13"), ("酒", "15"), ("仪器", "40"), ("仪表", "40"),
)
# Sectors common in every Zhejiang zone, used for the part of firms outside the leaders.
COMMON_SECTORS = ("33", "34", "29", "38", "35", "36", "39", "26", "17", "40")
LEADING_SHARE = 0.65


def leading_sectors(industries: str) -> list[str]:
    """GB/T 4754 codes for a catalogue 主导产业 string, in order, without repeats."""
    codes: list[str] = []
    for item in industries.replace("，", "、").split("、"):
        for key, code in _KEYWORDS:
            if key in item:
                codes.extend(c for c in code.split("/") if c not in codes)
                break
    return codes or ["34"]


def zone_sector_weights(industries: str) -> pd.Series:
    """Sector weights of a zone: 65% to its leading industries, the rest to common ones."""
    leaders = leading_sectors(industries)
    w = pd.Series(0.0, index=SECTORS.index)
    lead_w = np.array([1.0 / (k + 1) for k in range(len(leaders))])
    w[leaders] += LEADING_SHARE * lead_w / lead_w.sum()
    w[list(COMMON_SECTORS)] += (1 - LEADING_SHARE) / len(COMMON_SECTORS)
    return w / w.sum()

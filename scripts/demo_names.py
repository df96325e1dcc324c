"""Deterministic ids and Chinese names for synthetic enterprises and projects.

Ids have the shape of a 统一社会信用代码 (GB 32100-2015): "91" (工商, enterprise) +
the county's administrative division code (GB/T 2260) + a 9-character organisation
code with its GB 11714 check digit + the GB 32100 check character. The organisation
body is a bijective scramble of the row number, so ids are unique for < 10^8 firms.
They are synthetic and do not belong to real companies.
"""

from __future__ import annotations

import numpy as np

# GB/T 2260 codes of Zhejiang's 90 county-level units (2021 boundaries).
COUNTY_CODES = {
    "上城区": "330102", "拱墅区": "330105", "西湖区": "330106", "滨江区": "330108",
    "萧山区": "330109", "余杭区": "330110", "富阳区": "330111", "临安区": "330112",
    "临平区": "330113", "钱塘区": "330114", "桐庐县": "330122", "淳安县": "330127",
    "建德市": "330182", "海曙区": "330203", "江北区": "330205", "北仑区": "330206",
    "镇海区": "330211", "鄞州区": "330212", "奉化区": "330213", "象山县": "330225",
    "宁海县": "330226", "余姚市": "330281", "慈溪市": "330282", "鹿城区": "330302",
    "龙湾区": "330303", "瓯海区": "330304", "洞头区": "330305", "永嘉县": "330324",
    "平阳县": "330326", "苍南县": "330327", "文成县": "330328", "泰顺县": "330329",
    "瑞安市": "330381", "乐清市": "330382", "龙港市": "330383", "南湖区": "330402",
    "秀洲区": "330411", "嘉善县": "330421", "海盐县": "330424", "海宁市": "330481",
    "平湖市": "330482", "桐乡市": "330483", "吴兴区": "330502", "南浔区": "330503",
    "德清县": "330521", "长兴县": "330522", "安吉县": "330523", "越城区": "330602",
    "柯桥区": "330603", "上虞区": "330604", "新昌县": "330624", "诸暨市": "330681",
    "嵊州市": "330683", "婺城区": "330702", "金东区": "330703", "武义县": "330723",
    "浦江县": "330726", "磐安县": "330727", "兰溪市": "330781", "义乌市": "330782",
    "东阳市": "330783", "永康市": "330784", "柯城区": "330802", "衢江区": "330803",
    "常山县": "330822", "开化县": "330824", "龙游县": "330825", "江山市": "330881",
    "定海区": "330902", "普陀区": "330903", "岱山县": "330921", "嵊泗县": "330922",
    "椒江区": "331002", "黄岩区": "331003", "路桥区": "331004", "三门县": "331022",
    "天台县": "331023", "仙居县": "331024", "温岭市": "331081", "临海市": "331082",
    "玉环市": "331083", "莲都区": "331102", "青田县": "331121", "缙云县": "331122",
    "遂昌县": "331123", "松阳县": "331124", "云和县": "331125", "庆元县": "331126",
    "景宁畲族自治县": "331127", "龙泉市": "331181",
}
_ALPHABET = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))      # GB 32100 code set
_W32100 = np.array([pow(3, i, 31) for i in range(17)])
_W11714 = np.array([3, 7, 9, 10, 5, 8, 4, 2])
_SCRAMBLE = 48_271_487      # odd and coprime to 10^8: i ↦ (a·i + b) mod 10^8 is a bijection

BRAND_CHARS = list("恒达华鑫诚瑞宏泰盛隆兴昌永信康建利源丰创博新宇天金力凯嘉明正"
                   "中海光辉远通安德润森振越东方佳亿腾晶锦豪英荣威科立成聚合百富")
NAME_FORMS = ("科技", "制造", "实业", "工业", "")


def credit_codes(counties: np.ndarray, rows: np.ndarray, seed: int) -> np.ndarray:
    """18-character 统一社会信用代码-shaped ids with valid check characters."""
    body = (rows.astype(np.int64) * _SCRAMBLE + seed % 10**8) % 10**8
    digits = (body[:, None] // 10 ** np.arange(7, -1, -1)) % 10               # 8 digits
    c9 = 11 - (digits @ _W11714) % 11                                         # GB 11714
    c9_char = np.where(c9 == 10, "X", np.where(c9 == 11, "0", c9.astype(str)))
    admin = _map(counties, COUNTY_CODES, "330000")
    first17 = np.char.add(np.char.add(np.char.add("91", admin),
                                      np.char.zfill(body.astype(str), 8)), c9_char)
    lut = np.zeros(256, dtype=np.int64)
    lut[np.frombuffer("".join(_ALPHABET).encode(), dtype=np.uint8)] = np.arange(_ALPHABET.size)
    chars = np.frombuffer(first17.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17)
    check = (31 - (lut[chars] @ _W32100) % 31) % 31                          # GB 32100
    return np.char.add(first17, _ALPHABET[check]).astype(object)


def _map(keys: np.ndarray, table: dict, default: str) -> np.ndarray:
    """Look up each key of a (long) array through its few unique values."""
    uniq, inv = np.unique(keys.astype(str), return_inverse=True)
    return np.array([table.get(u, default) for u in uniq], dtype=object)[inv].astype(str)


def firm_names(rng, counties: np.ndarray, city_of_county: dict, sectors: np.ndarray,
               fdi: np.ndarray) -> np.ndarray:
    """Names like "长兴恒达精密机械有限公司": place + two brand characters + trade + form."""
    from demo_sectors import SECTORS
    n = counties.size
    k = len(BRAND_CHARS)
    pair = rng.permutation(k * k)[np.arange(n) % (k * k)]
    chars = np.array(BRAND_CHARS)
    brand = np.char.add(chars[pair // k], chars[pair % k])
    county_short = _map(counties, {c: _short(c) for c in COUNTY_CODES}, "浙江")
    city_short = _map(counties, {c: str(v)[:2] for c, v in city_of_county.items()}, "浙江")
    place_pick = rng.integers(0, 3, n)
    place = np.where(place_pick == 0, "浙江", np.where(place_pick == 1, city_short, county_short))
    pos = SECTORS.index.get_indexer(sectors)
    first, second = SECTORS["word1"].to_numpy(str)[pos], SECTORS["word2"].to_numpy(str)[pos]
    word = np.where(rng.random(n) < 0.5, first, second)
    form = np.array(NAME_FORMS)[rng.integers(0, len(NAME_FORMS), n)]
    suffix = np.where(fdi, "（中国）有限公司", np.where(rng.random(n) < 0.1, "股份有限公司", "有限公司"))
    out = np.where(fdi, "", place)
    for part in (brand, word, form, suffix):
        out = np.char.add(out, part)
    return out.astype(object)


def project_names(rng, counties: np.ndarray, sectors: np.ndarray) -> list[str]:
    from demo_sectors import SECTORS
    kinds = ("新建项目", "扩产项目", "智能化技改项目", "标准厂房项目")
    out = []
    for c, s in zip(counties, sectors):
        b = rng.choice(BRAND_CHARS, 2)
        w = SECTORS.loc[s, "words"].split("|")[0]
        out.append(f"{_short(c)}{b[0]}{b[1]}{w}{kinds[rng.integers(0, len(kinds))]}")
    return out


def _short(county: str) -> str:
    """"龙湾区" → "龙湾", "景宁畲族自治县" → "景宁"."""
    if county.endswith("自治县"):
        return county[:2]
    return county[:-1] if len(county) > 2 else county

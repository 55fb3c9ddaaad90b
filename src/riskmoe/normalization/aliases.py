"""Alias generation: the stated rules, and the curated tables kept as data.

Every alias carries its ``kind`` (which rule or table made it), a human-readable
``source`` and a ``confidence`` in (0, 1] that the resolver uses to rank entities sharing
an alias. The rules, applied to the normalised names (see :func:`normalise_text`):

=================  =====  ==============================================================
kind               conf.  rule
=================  =====  ==============================================================
``short_name``     1.00   the exchange short name as listed (``*ST国华``, ``万科A``)
``name``           1.00   without transient marks (``XD会稽山`` -> ``会稽山``)
``extended_name``  1.00   the SSE extended short name
``full_name``      1.00   registered name, and the name in the annual reports
``english_name``   1.00   English name as registered (exchange lists, S&P 500 list)
``status``         0.95   status marks stripped: ``*ST``, ``ST``, ``SST``, ``S``, ``PT``,
                          ``N``, ``C``, ``XD``, ``XR``, ``DR``, ``退``, ``-U``, ``-W`` ...
``share_class``    0.95   share-class letter stripped: ``万科A`` -> ``万科``
``legal_form``     0.95   legal form stripped from a registered name: ``股份有限公司``,
                          ``有限责任公司``, ``有限公司``; English ``Co., Ltd.``, ``Inc.``,
                          ``Corporation``, ``Class A`` ...
``former_name``    0.90   a former short name (``cn_st_status`` snapshots 2020-2023)
``region``         0.85   region prefix stripped when the rest is distinctive:
                          ``贵州茅台`` -> ``茅台``; ``Jiangsu Hengrui ...`` -> ``hengrui ...``
``core``           0.80   generic industry word or trailing ``集团``/``控股``/``股份``
                          stripped when the rest is distinctive (``格力电器`` -> ``格力``,
                          ``inovance technology`` -> ``inovance``); also given to every
                          other company whose name starts with it (shared prefix)
``core``           0.75   first word of a multi-word English name (``ford motor`` ->
                          ``ford``) unless generic (``china``, ``bank``, ``general`` ...)
``curated``        table  ``data/colloquial_aliases.csv``: colloquial names people use
                          (``工行``, ``茅台``, ``CATL``, ``苹果``), each with a note
``unlisted``       --     ``data/unlisted_names.csv``: famous companies NOT listed here
                          that collide with a listed look-alike (``华为``, ``恒大``);
                          resolving one abstains
``pinyin_full``    x0.95  toneless pinyin of the Chinese aliases above (not full names)
``pinyin_initials`` 0.90  initials of short names, and the exchange's own initials
=================  =====  ==============================================================

"Distinctive" means: at least two characters, not a region name, not a generic industry
word (``银行``, ``证券``, ``科技`` ...). When the same rule-made key comes out of several
entities (``平安`` from ``中国平安`` and ``平安银行``), every one keeps it: the resolver
then sees the ambiguity and abstains rather than picking one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from riskmoe.normalization.text import compact, has_cjk, normalise_text

__all__ = [
    "ALIAS_KINDS",
    "AliasRow",
    "GENERIC_WORDS",
    "REGION_PREFIXES",
    "clean_short_name",
    "core_name",
    "english_core",
    "english_first_word",
    "english_without_industry",
    "load_curated_aliases",
    "load_unlisted_names",
    "strip_legal_form",
    "strip_region_prefix",
    "strip_share_class",
    "strip_status_marks",
]

ALIAS_KINDS = (
    "short_name", "name", "extended_name", "full_name", "english_name", "status",
    "share_class", "legal_form", "former_name", "region", "core", "curated", "unlisted",
    "pinyin_full", "pinyin_initials",
)

# Provinces (full and common short forms), large and name-giving cities, and the national
# prefixes. Single-character abbreviations (沪, 深, 京 ...) are left out on purpose:
# stripping them turns 中信 into 信.
REGION_PREFIXES: tuple[str, ...] = tuple(sorted({
    "中国", "中华", "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江",
    "江苏", "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南",
    "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "内蒙", "广西", "西藏",
    "宁夏", "新疆", "香港", "澳门", "深圳", "广州", "杭州", "南京", "苏州", "武汉", "成都",
    "西安", "厦门", "青岛", "大连", "宁波", "无锡", "长沙", "郑州", "合肥", "福州", "济南",
    "沈阳", "哈尔滨", "长春", "石家庄", "太原", "南昌", "昆明", "贵阳", "南宁", "兰州",
    "西宁", "银川", "乌鲁木齐", "呼和浩特", "拉萨", "海口", "三亚", "珠海", "佛山", "东莞",
    "中山", "汕头", "常州", "徐州", "温州", "绍兴", "嘉兴", "湖州", "台州", "金华", "烟台",
    "潍坊", "淄博", "唐山", "保定", "洛阳", "宜宾", "泸州", "绵阳", "柳州", "桂林", "九江",
    "芜湖", "马鞍山", "扬州", "镇江", "南通", "盐城", "连云港", "泰州", "宜昌", "襄阳",
    "株洲", "湘潭", "岳阳", "张家港", "江阴", "昆山", "义乌", "舟山", "北方", "南方",
}, key=lambda r: (-len(r), r)))

# Industry words: a name reduced to one of these says nothing about which company.
INDUSTRY_SUFFIXES: tuple[str, ...] = tuple(sorted({
    "股份", "集团", "控股", "实业", "发展", "科技", "技术", "电子", "电器", "电气", "电力",
    "电工", "动力", "能源", "新能", "化学", "化工", "医药", "药业", "制药", "生物", "医疗",
    "眼科", "药房", "银行", "证券", "保险", "信托", "期货", "汽车", "重工", "机械", "装备",
    "精工", "精密", "智能", "信息", "通信", "通讯", "网络", "软件", "传媒", "文化", "影视",
    "食品", "乳业", "酒业", "啤酒", "味业", "水泥", "钢铁", "特钢", "矿业", "锂业", "钼业",
    "煤业", "黄金", "有色", "铝业", "铜业", "新材", "材料", "光电", "电源", "电池", "绿能",
    "环保", "水务", "燃气", "高速", "交通", "物流", "航空", "机场", "港口", "海运", "轮船",
    "铁路", "地产", "置业", "建设", "建筑", "建工", "百货", "商业", "超市", "速递", "快递",
    "旅游", "酒店", "农业", "牧业", "种业", "纺织", "服饰", "家居", "国际", "高新", "高科",
    "创新", "数据", "数字", "电缆", "照明", "玻璃", "纸业", "轴承", "游戏", "教育", "体育",
}, key=lambda r: (-len(r), r)))

GENERIC_WORDS: frozenset[str] = frozenset(INDUSTRY_SUFFIXES) | frozenset({
    "公司", "企业", "中国", "国家", "石油", "石化", "新材料", "半导体", "互联网", "工业", "投资",
    "资本", "金融", "财富", "资源", "环境", "健康", "医院", "设计", "制造", "工程", "设备",
    "电子科技", "有限", "股票", "风险", "信用", "市场", "流动", "经营", "操作",
})

# Chinese legal forms, longest first (keys are normalised, so brackets are gone).
_CN_LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "股份公司", "有限公司", "公司")
_CN_TRAILING_FORMS = ("集团", "控股", "股份")
_EN_LEGAL_WORDS = frozenset({
    "co", "ltd", "limited", "company", "corporation", "corp", "inc", "incorporated", "plc",
    "group", "holdings", "holding", "sa", "ag", "nv", "llc", "lp", "the", "stock", "joint",
})
_EN_CLASS = re.compile(r"\s*\bclass [abc]\b")

# Status and trading marks on exchange short names.
_STATUS_PREFIX = re.compile(r"^(S\*ST|\*ST|SST|ST|PT|XD|XR|DR|S|N|C)(?=[\u3400-\u9fff])")
_STATUS_SUFFIX = re.compile(r"(-UWD|-UW|-WD|-U|-W|-D)$")
_TRANSIENT_PREFIX = re.compile(r"^(XD|XR|DR|N|C)(?=[\u3400-\u9fff])")
_DELISTED_SUFFIX = re.compile(r"(?<=[\u3400-\u9fff]|[AB])退$")
_SHARE_CLASS = re.compile(r"(?<=[\u3400-\u9fff])[ABab]$")


@dataclass(frozen=True)
class AliasRow:
    """One alias before indexing: its text, entity, kind, confidence and provenance."""

    alias: str
    code: str
    kind: str
    confidence: float
    source: str
    note: str = ""


def strip_status_marks(short_name: str) -> str:
    """Remove status and trading marks from an exchange short name.

    Examples
    --------
    >>> [strip_status_marks(n) for n in ["*ST国华", "XD会稽山", "乐视退", "星环科技-U"]]
    ['国华', '会稽山', '乐视', '星环科技']
    """
    name = short_name.strip()
    previous = None
    while previous != name:
        previous = name
        name = _STATUS_PREFIX.sub("", name)
        name = _STATUS_SUFFIX.sub("", name)
        name = _DELISTED_SUFFIX.sub("", name)
    return name


def clean_short_name(short_name: str) -> str:
    """A display name: transient marks (``XD``, ``XR``, ``DR``, ``N``, ``C``) removed,
    status marks (``*ST``) kept because they say something about risk.

    Examples
    --------
    >>> clean_short_name("XD会稽山"), clean_short_name("*ST国华")
    ('会稽山', '*ST国华')
    """
    return _STATUS_SUFFIX.sub("", _TRANSIENT_PREFIX.sub("", short_name.strip()))


def strip_share_class(name: str) -> str:
    """Remove a trailing share-class letter after a Chinese name (``万科A`` -> ``万科``)."""
    return _SHARE_CLASS.sub("", name)


def strip_legal_form(key: str, *, trailing: bool = True) -> str:
    """Remove legal forms from a normalised Chinese or English name.

    Parameters
    ----------
    key : str
        A normalised name.
    trailing : bool
        Also strip a name-ending ``集团``, ``控股`` or ``股份`` (Chinese), which leaves a
        core name rather than the registered one (``民生控股股份有限公司`` -> ``民生`` rather
        than ``民生控股``).

    Examples
    --------
    >>> strip_legal_form(normalise_text("中国平安保险（集团）股份有限公司"))
    '中国平安保险'
    >>> strip_legal_form(normalise_text("Kweichow Moutai Co.,Ltd."))
    'kweichow moutai'
    >>> strip_legal_form(normalise_text("Alphabet Inc Class A"))
    'alphabet'
    """
    if has_cjk(key):
        name = compact(key)
        previous = None
        while previous != name:
            previous = name
            for suffix in _CN_LEGAL_SUFFIXES:
                if name.endswith(suffix) and len(name) > len(suffix) + 1:
                    name = name[: -len(suffix)]
                    break
            for form in _CN_TRAILING_FORMS if trailing else ():
                if name.endswith(form) and len(name) > len(form) + 1:
                    name = name[: -len(form)]
                    break
        return name
    words = _EN_CLASS.sub("", key).split()
    while words and words[-1] in _EN_LEGAL_WORDS:
        words.pop()
    while words and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def _distinctive(rest: str) -> bool:
    return (
        len(rest) >= 2
        and rest not in GENERIC_WORDS
        and rest not in REGION_PREFIXES
        and not rest.isdigit()
    )


def strip_region_prefix(key: str) -> str | None:
    """The name without its region prefix when what remains is distinctive, else None.

    Examples
    --------
    >>> strip_region_prefix("贵州茅台"), strip_region_prefix("宁波银行")
    ('茅台', None)
    """
    for region in REGION_PREFIXES:
        if key.startswith(region):
            rest = key[len(region):]
            return rest if _distinctive(rest) else None
    return None


def core_name(key: str) -> str | None:
    """The name without its generic industry suffix when the rest is distinctive.

    Examples
    --------
    >>> core_name("格力电器"), core_name("招商银行"), core_name("重庆啤酒")
    ('格力', '招商', None)
    """
    for suffix in INDUSTRY_SUFFIXES:
        if key.endswith(suffix):
            rest = key[: -len(suffix)]
            return rest if _distinctive(rest) else None
    return None


_EN_REGIONS = frozenset({
    "beijing", "tianjin", "shanghai", "chongqing", "hebei", "shanxi", "liaoning", "jilin",
    "heilongjiang", "jiangsu", "zhejiang", "anhui", "fujian", "jiangxi", "shandong", "henan",
    "hubei", "hunan", "guangdong", "hainan", "sichuan", "guizhou", "yunnan", "shaanxi",
    "gansu", "qinghai", "guangxi", "tibet", "ningxia", "xinjiang", "shenzhen", "guangzhou",
    "hangzhou", "nanjing", "suzhou", "wuhan", "chengdu", "xian", "xiamen", "qingdao",
    "dalian", "ningbo", "wuxi", "changsha", "zhengzhou", "hefei", "fuzhou", "jinan",
    "shenyang", "zhuhai", "foshan", "dongguan", "zhongshan", "yibin", "luzhou", "china",
})


def english_core(key: str) -> str | None:
    """An English name without its leading region (``inner mongolia yili industrial`` ->
    ``yili industrial``) when at least one word remains, else None."""
    words = key.split()
    if len(words) >= 3 and words[0] == "inner" and words[1] == "mongolia":
        rest = words[2:]
    elif len(words) >= 2 and words[0] in _EN_REGIONS:
        rest = words[1:]
    else:
        return None
    out = " ".join(rest)
    return out if len(out.replace(" ", "")) >= 4 else None


# First words that do not identify a company on their own.
_EN_GENERIC_FIRST = frozenset({
    "china", "chinese", "bank", "american", "america", "general", "first", "national",
    "united", "international", "global", "new", "industrial", "great", "western",
    "eastern", "southern", "northern", "central", "public", "royal", "capital", "inner",
    "hong", "sino", "asia", "pacific", "world", "universal", "advanced", "applied",
    "digital", "energy", "financial", "health", "home", "life", "power", "real", "state",
    "north", "south", "east", "west", "investors", "people", "peoples", "agricultural",
    "postal", "qingdao", "air", "citizens", "regions", "principal", "progressive",
    "texas", "southwest", "federal", "host", "consolidated",
    "electronic", "motorola", "data", "discovery", "dr", "walt",
})


#: English words that name an industry or a legal form rather than a company.
EN_GENERIC_WORDS: frozenset[str] = frozenset({
    "china", "chinese", "group", "holdings", "holding", "company", "co", "corp",
    "corporation", "inc", "ltd", "limited", "the", "and", "of", "bank", "banking",
    "securities", "insurance", "technology", "technologies", "tech", "electronics",
    "electronic", "electric", "electrical", "energy", "power", "industry", "industries",
    "industrial", "international", "pharmaceutical", "pharmaceuticals", "pharma",
    "chemical", "chemicals", "motor", "motors", "automobile", "automotive", "engineering",
    "construction", "development", "investment", "resources", "mining", "materials",
    "material", "new", "science", "sciences", "information", "communications",
    "communication", "services", "service", "systems", "system", "software", "network",
    "networks", "medical", "healthcare", "health", "bio", "biological", "biotech", "foods",
    "food", "airlines", "air", "real", "estate", "properties", "property", "logistics",
    "shipping", "steel", "cement", "machinery", "equipment", "heavy", "light", "digital",
    "smart", "home", "appliances", "lithium", "precision", "manufacturing", "trading",
    "capital", "financial", "finance", "stores", "store", "brands", "global",
})


def english_without_industry(key: str) -> str | None:
    """An English name without its last word when that word is generic.

    ``inovance technology`` -> ``inovance``, ``china shenhua energy`` -> ``china shenhua``;
    None when nothing distinctive would remain.

    Examples
    --------
    >>> english_without_industry("inovance technology"), english_without_industry("china bank")
    ('inovance', None)
    """
    words = key.split()
    if len(words) < 2 or words[-1] not in EN_GENERIC_WORDS:
        return None
    rest = words[:-1]
    if all(w in EN_GENERIC_WORDS or w in _EN_REGIONS for w in rest):
        return None
    if len("".join(w for w in rest if w not in EN_GENERIC_WORDS)) < 4:
        return None
    return " ".join(rest)


def english_first_word(key: str) -> str | None:
    """The first word of a multi-word English name when it can stand alone.

    ``ford motor`` -> ``ford``, ``goldman sachs`` -> ``goldman``; None for one-word names,
    short words and words shared by many names (``china``, ``bank``, ``general``).

    Examples
    --------
    >>> english_first_word("ford motor"), english_first_word("bank of china")
    ('ford', None)
    """
    words = key.split()
    if len(words) < 2:
        return None
    first = words[0]
    if len(first) < 4 or not first.isalpha() or first in _EN_GENERIC_FIRST:
        return None
    return first


def _read_csv(name: str) -> list[dict[str, str]]:
    path = resources.files("riskmoe.normalization").joinpath("data").joinpath(name)
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))


def load_curated_aliases() -> list[AliasRow]:
    """The curated colloquial table (``data/colloquial_aliases.csv``).

    Returns
    -------
    list of AliasRow
        One row per (alias, entity); an alias shared by several entities with equal
        confidence is ambiguous by design (``平安``, ``中信``).

    Raises
    ------
    ValueError
        A row with a confidence outside (0, 1] or an empty alias or code.
    """
    rows: list[AliasRow] = []
    for i, row in enumerate(_read_csv("colloquial_aliases.csv"), start=2):
        conf = float(row["confidence"])
        if not (0.0 < conf <= 1.0) or not row["alias"].strip() or not row["code"].strip():
            raise ValueError(f"colloquial_aliases.csv, line {i}: bad row {row}.")
        rows.append(AliasRow(row["alias"], row["code"], "curated", conf,
                             "curated:colloquial_aliases.csv", row["note"]))
    return rows


def load_unlisted_names() -> list[tuple[str, str]]:
    """``data/unlisted_names.csv``: (name, note) of famous companies that are not listed
    here and collide with a listed look-alike; resolving one abstains."""
    return [(row["name"], row["note"]) for row in _read_csv("unlisted_names.csv")]


def _rule_aliases(
    code: str, short_name: str, extras: Mapping[str, Sequence[str]]
) -> Iterator[AliasRow]:
    """Aliases of one Chinese entity from its names (see the module docstring)."""
    src = "cn_listed_companies"
    yield AliasRow(short_name, code, "short_name", 1.0, f"{src}.short_name")
    display = clean_short_name(short_name)
    yield AliasRow(display, code, "name", 1.0, "rule:transient_marks")
    bare = strip_status_marks(short_name)
    yield AliasRow(bare, code, "status", 0.95, "rule:status_marks")
    cls = strip_share_class(bare)
    if cls != bare:
        yield AliasRow(cls, code, "share_class", 0.95, "rule:share_class")
    for kind, names in extras.items():
        for n in names:
            conf = 0.9 if kind == "former_name" else 1.0
            yield AliasRow(n, code, kind, conf, f"{src}.{kind}" if kind != "former_name"
                           else "cn_st_status.name")
            if kind == "former_name":
                b = strip_share_class(strip_status_marks(n))
                if b != n:
                    yield AliasRow(b, code, "former_name", 0.85, "rule:status_marks")
    stems = {normalise_text(cls)} | {
        normalise_text(strip_share_class(strip_status_marks(n)))
        for n in extras.get("former_name", ())
    }
    for stem in stems:
        region = strip_region_prefix(stem)
        if region:
            yield AliasRow(region, code, "region", 0.85, "rule:region_prefix")
            core = core_name(region)
            if core:
                yield AliasRow(core, code, "core", 0.75, "rule:region_prefix+industry_suffix")
        core = core_name(stem)
        if core:
            yield AliasRow(core, code, "core", 0.8, "rule:industry_suffix")
        legal = strip_legal_form(stem)
        if legal != stem and _distinctive(legal):
            # 美的集团 -> 美的: the same kind of evidence as an industry suffix stripped
            yield AliasRow(legal, code, "core", 0.8, "rule:legal_form")
    for full in extras.get("full_name", ()):
        key = normalise_text(full)
        legal = strip_legal_form(key, trailing=False)
        if legal and legal != key:
            yield AliasRow(legal, code, "legal_form", 0.95, "rule:legal_form")
            region = strip_region_prefix(legal)
            if region and len(region) >= 3:
                yield AliasRow(region, code, "region", 0.85, "rule:legal_form+region_prefix")
        shorter = strip_legal_form(key)
        if shorter != legal and _distinctive(shorter):
            yield AliasRow(shorter, code, "core", 0.8, "rule:legal_form+trailing_form")
    for english in extras.get("english_name", ()):
        key = normalise_text(english)
        legal = strip_legal_form(key)
        if legal and legal != key:
            yield AliasRow(legal, code, "legal_form", 0.95, "rule:legal_form")
        core = english_core(legal or key)
        if core:
            yield AliasRow(core, code, "region", 0.85, "rule:region_prefix")
        for base in dict.fromkeys(b for b in (legal, core) if b):
            short = english_without_industry(base)
            if short:
                yield AliasRow(short, code, "core", 0.8, "rule:english_industry_word")
        first = english_first_word(core or legal or key)
        if first and first not in _EN_REGIONS:
            yield AliasRow(first, code, "core", 0.75, "rule:english_first_word")

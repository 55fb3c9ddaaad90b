"""Question vocabulary: risk-type keywords, period expressions and filler words.

The resolver splits a question at these words to find the company mention
(``招行最近的信用风险?`` -> ``招行``); the question parser reads the risk type and period
from them.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "CN_FILLERS",
    "EN_FILLERS",
    "PERIOD_PATTERN",
    "RISK_KEYWORDS",
    "RiskType",
    "TICKER_STOPWORDS",
    "split_mentions",
]

RiskType = Literal["credit", "market", "liquidity", "operational", "overall"]

#: Keywords per risk type, Chinese and English (matched on normalised, simplified,
#: lower-cased text). The first keyword found in the question decides the type.
RISK_KEYWORDS: dict[RiskType, tuple[str, ...]] = {
    "credit": (
        "信用", "违约", "偿债", "债务", "信贷", "坏账", "不良率", "资产质量", "评级下调",
        "credit", "default", "solvency", "debt", "leverage", "bankrupt", "distress",
    ),
    "market": (
        "市场风险", "市场", "波动", "股价", "行情", "价格", "var", "在险价值",
        "market", "volatility", "volatile", "price", "stock price", "value at risk",
    ),
    "liquidity": (
        "流动性", "流动比率", "速动比率", "现金流", "现金", "资金链", "短期偿付",
        "liquidity", "cash", "current ratio", "quick ratio", "funding",
    ),
    "operational": (
        "操作", "经营", "运营", "合规", "违规", "欺诈", "造假", "内控",
        "operational", "operating", "operations", "fraud", "compliance",
    ),
    "overall": (
        "整体", "综合", "总体", "全面", "overall", "general", "total",
    ),
}

# Words and particles that never belong to a company name in a question. Single
# characters are limited to particles; 高/大/中 are in names (长春高新, 大参林).
CN_FILLERS: tuple[str, ...] = (
    "的", "了", "吗", "呢", "吧", "啊", "呀", "么", "和", "与", "及", "跟", "或者", "还是",
    "以及", "怎么样", "怎样", "如何", "多少", "多大", "高不高", "大不大", "严重吗", "大吗",
    "高吗", "是否", "有没有", "有无", "会不会", "是不是", "哪个", "哪家", "什么", "请问",
    "帮我", "帮忙", "看看", "看一下", "查一下", "查询", "分析一下", "分析", "评估", "了解一下",
    "了解", "我想", "我要", "想知道", "告诉我", "给我", "一下", "说说", "介绍", "最近",
    "近期", "目前", "现在", "当前", "今年", "去年", "前年", "明年", "本年", "上年", "年度",
    "本季度", "上季度", "上个季度", "这个季度", "本月", "上月", "上个月", "本周", "季度", "上半年",
    "下半年", "风险", "能力", "情况", "状况", "水平", "评级", "财务",
    "紧张", "公司", "股票", "之后", "以后", "以来", "期间", "对比", "比较", "相比", "哪个高",
    "高", "大", "后", "数据", "指标", "怎么", "问题", "有", "吗",
    *(w for words in RISK_KEYWORDS.values() for w in words if not w.isascii()),
)

EN_FILLERS: frozenset[str] = frozenset({
    "what", "whats", "is", "are", "was", "were", "the", "a", "an", "of", "for", "in", "on",
    "at", "to", "about", "how", "risky", "risk", "risks", "stock", "stocks", "share",
    "shares", "company", "companys", "last", "this", "next", "year", "years", "quarter",
    "quarters", "month", "months", "past", "recent", "recently", "high", "low", "level",
    "rating", "and", "or", "with", "its", "me", "show", "tell", "give", "please", "do",
    "does", "did", "has", "have", "had", "be", "been", "any", "much", "many", "there",
    "can", "could", "should", "would", "will", "my", "our", "than", "vs", "versus",
    "compare", "compared", "between", "from", "since", "during", "ytd", "fy", "fiscal",
    "q1", "q2", "q3", "q4", "h1", "h2", "first", "second", "third", "fourth", "half",
    "now", "today", "current", "currently", "check", "analyse", "analyze", "analysis",
    "profile", "situation", "exposure", "ratio", "ratios", "i", "want", "know", "it",
    *(w for words in RISK_KEYWORDS.values() for w in words if w.isascii()),
})

#: Uppercase tokens that look like tickers but, inside a question, are finance words.
TICKER_STOPWORDS: frozenset[str] = frozenset({
    "A", "I", "ES", "VAR", "CVAR", "PD", "LGD", "EAD", "EL", "UL", "GDP", "CEO", "CFO",
    "USD", "CNY", "RMB", "HKD", "ST", "IPO", "FY", "YOY", "QOQ", "ROE", "ROA", "EPS", "PE",
    "PB", "AI", "IT", "US", "USA", "UK", "EU", "OK", "CDS", "ETF", "ESG", "Q", "H", "IRB",
    "PSI", "KS", "AUC", "ALL", "ON", "NOW", "KEY", "LOW", "HAS", "SO", "ARE", "FOR", "AN",
    "BE", "DO", "GO", "IS", "OR", "TO", "AT", "BY", "IN", "OF", "MY",
})

_CN_NUM = "0-9一二两三四五六七八九十"
#: Period expressions (Chinese and English), removed before looking for the company.
PERIOD_PATTERN = re.compile(
    rf"(?:近|最近|过去|前|未来)?[{_CN_NUM}]+个?(?:年|个月|月|季度|季|天|日|周)(?:以来|来)?"
    r"|(?:19|20)\d{2}\s*(?:年)?(?:[一二三四1-4]季度|第[一二三四1-4]季度|q[1-4]|上半年|下半年|h[12])?"
    r"|q[1-4]\s*(?:19|20)\d{2}|[1-4]q\s*\d{2}"
    r"|(?:19|20)\d{2}\s*(?:-|~|至|到|and|to)\s*(?:19|20)\d{2}"
    r"|last \d+ years?|past \d+ years?|last year|this year|next year"
)

_SPLIT_CACHE: dict[str, re.Pattern[str]] = {}


def _filler_pattern() -> re.Pattern[str]:
    pat = _SPLIT_CACHE.get("cn")
    if pat is None:
        words = sorted(set(CN_FILLERS), key=len, reverse=True)
        pat = re.compile("|".join(map(re.escape, words)))
        _SPLIT_CACHE["cn"] = pat
    return pat


def split_mentions(normalised: str) -> list[str]:
    """Pieces of a normalised question that may name a company.

    Period expressions, Chinese filler and risk words and English filler words are cut
    out; what remains, split at the cuts, are the candidate mentions.

    Examples
    --------
    >>> split_mentions("招行最近的信用风险")
    ['招行']
    >>> split_mentions("what is the market risk of apple in 2023")
    ['apple']
    """
    text = PERIOD_PATTERN.sub(" | ", normalised)
    text = _filler_pattern().sub(" | ", text)
    pieces: list[str] = []
    for part in text.split("|"):
        words = [w for w in part.split() if w not in EN_FILLERS]
        # Latin words that are separated by a filler stay apart; adjacent ones join
        # ("goldman sachs").
        if words:
            piece = " ".join(words).strip()
            if piece and not piece.isdigit():
                pieces.append(piece)
    return pieces

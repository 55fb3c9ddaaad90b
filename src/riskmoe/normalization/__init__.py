"""The Language Normalization System: find the right company from whatever people type.

* :class:`EntityBase` -- companies (A/B shares, S&P 500) and their aliases, built from the
  datasets or the bundled fallback, saved to and loaded from the DuckDB store;
* :class:`EntityResolver` -- ``resolve(text) -> Resolution``: codes, exact aliases (also
  inside a sentence), pinyin, TF-IDF and homophone-aware fuzzy matching, or abstention;
* :func:`parse_question` -- entity, risk type and period of a risk question.
"""

from riskmoe.normalization.aliases import (
    clean_short_name,
    load_curated_aliases,
    load_unlisted_names,
    strip_legal_form,
    strip_region_prefix,
    strip_share_class,
    strip_status_marks,
)
from riskmoe.normalization.entities import Entity, EntityBase
from riskmoe.normalization.pinyin import full_pinyin, pinyin_initials
from riskmoe.normalization.question import (
    Period,
    Question,
    detect_risk_types,
    parse_period,
    parse_question,
)
from riskmoe.normalization.resolver import (
    Candidate,
    EntityResolver,
    Resolution,
    ResolverConfig,
)
from riskmoe.normalization.sources import (
    EntitySources,
    load_bundled_companies,
    load_bundled_sp500,
    load_entity_sources,
)
from riskmoe.normalization.text import normalise_text
from riskmoe.normalization.vocabulary import RiskType

__all__ = [
    "Candidate",
    "Entity",
    "EntityBase",
    "EntityResolver",
    "EntitySources",
    "Period",
    "Question",
    "Resolution",
    "ResolverConfig",
    "RiskType",
    "clean_short_name",
    "detect_risk_types",
    "full_pinyin",
    "load_bundled_companies",
    "load_bundled_sp500",
    "load_curated_aliases",
    "load_entity_sources",
    "load_unlisted_names",
    "normalise_text",
    "parse_period",
    "parse_question",
    "pinyin_initials",
    "strip_legal_form",
    "strip_region_prefix",
    "strip_share_class",
    "strip_status_marks",
]

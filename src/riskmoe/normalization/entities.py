"""The entity knowledge base: companies, their aliases, and their persistence in the store.

An :class:`EntityBase` is two tables:

* ``entities`` -- one row per company, keyed by ``code`` (``600519.SH`` for A/B shares,
  the ticker such as ``AAPL`` or ``BRK.B`` for S&P 500 companies): names, industry, area,
  listing date, whether it is listed today, and the pinyin of its name;
* ``entity_aliases`` -- one row per (alias key, code): the surface alias, its normalised
  ``key``, ``kind``, ``source``, ``confidence``, whether it may be matched inside a longer
  text (``in_text``), and the pinyin of the key (for homophone-aware fuzzy scores).

Both are written to the DuckDB store in one transaction with :meth:`EntityBase.save`
and read back with :meth:`EntityBase.load`; building from the datasets takes seconds,
loading from the store a fraction of that.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from riskmoe.config import Settings
from riskmoe.data.store import Store
from riskmoe.exceptions import ResolutionError, StoreError
from riskmoe.normalization.aliases import (
    AliasRow,
    _rule_aliases,
    clean_short_name,
    english_first_word,
    english_without_industry,
    load_curated_aliases,
    load_unlisted_names,
    strip_legal_form,
    strip_share_class,
    strip_status_marks,
)
from riskmoe.normalization.pinyin import full_pinyin, pinyin_initials, pinyin_syllables
from riskmoe.normalization.sources import EntitySources, load_entity_sources
from riskmoe.normalization.text import compact, has_cjk, normalise_text

__all__ = [
    "ALIAS_COLUMNS", "ENTITY_COLUMNS", "RULES_VERSION", "Entity", "EntityBase",
    "rules_fingerprint",
]

#: Bump when the alias rules change, so a base saved by older rules is rebuilt.
RULES_VERSION = "1"
_DATA_FILES = ("colloquial_aliases.csv", "unlisted_names.csv", "pinyin_overrides.csv")


def rules_fingerprint() -> str:
    """A hash of :data:`RULES_VERSION` and the curated tables: what a stored base must match.

    Editing a curated table changes it, so :meth:`EntityBase.load` refuses (and
    :meth:`EntityResolver.default` rebuilds) a base saved before the edit.
    """
    h = hashlib.sha256(RULES_VERSION.encode())
    folder = resources.files("riskmoe.normalization").joinpath("data")
    for name in _DATA_FILES:
        h.update(name.encode())
        h.update(folder.joinpath(name).read_bytes())
    return h.hexdigest()[:16]

TABLE_ENTITIES = "entities"
TABLE_ALIASES = "entity_aliases"
TABLE_INFO = "entity_base_info"

ENTITY_COLUMNS = (
    "code", "market", "exchange", "short_name", "name", "full_name", "english_name",
    "industry", "area", "list_date", "listed", "b_share_code", "pinyin_full",
    "pinyin_initials", "source",
)
ALIAS_COLUMNS = (
    "alias", "key", "code", "kind", "confidence", "source", "note", "in_text", "pinyin",
)
_TEXT_ENTITY_COLUMNS = tuple(
    c for c in ENTITY_COLUMNS if c not in ("list_date", "listed")
)

# Kinds whose Chinese keys also get a full-pinyin alias / an initials alias.
_PINYIN_FULL_KINDS = frozenset({
    "short_name", "name", "status", "share_class", "extended_name", "former_name",
    "region", "core", "curated",
})
_PINYIN_INITIAL_KINDS = frozenset({"name", "status", "share_class", "extended_name"})
# Kinds whose keys may be found inside a longer text; rule-made two-character cores
# (格力, 海天) are matched only as a whole mention, never inside another word.
_IN_TEXT_KINDS = frozenset({
    "short_name", "name", "extended_name", "full_name", "english_name", "legal_form",
    "former_name", "curated", "unlisted",
})
_LISTED_SOURCES = ("tushare", "szse", "sse", "adata")


@dataclass(frozen=True)
class Entity:
    """One company of the entity base."""

    code: str
    market: str
    exchange: str
    short_name: str
    name: str
    full_name: str | None
    english_name: str | None
    industry: str | None
    area: str | None
    list_date: date | None
    listed: bool
    b_share_code: str | None
    pinyin_full: str | None
    pinyin_initials: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        out = dict(self.__dict__)
        out["list_date"] = None if self.list_date is None else self.list_date.isoformat()
        return out


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    s = str(value).strip()
    return s or None


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _former_names(st_history: pd.DataFrame | None) -> dict[str, list[str]]:
    if st_history is None or not len(st_history):
        return {}
    hist = st_history.sort_values("as_of_date")
    out: dict[str, list[str]] = {}
    for code, name in zip(hist["code"], hist["name"], strict=True):
        n = _text(name)
        if n is not None and n not in out.setdefault(code, []):
            out[code].append(n)
    return out


def _restore_truncated(short_name: str, former: list[str]) -> str:
    """``XD中直股`` loses characters to its mark; the full name is a former name."""
    display = clean_short_name(short_name)
    if display == short_name:
        return display
    stem = strip_status_marks(display)
    longer = [f for f in former if strip_status_marks(f).startswith(stem) and len(
        strip_status_marks(f)) > len(stem)]
    return clean_short_name(longer[-1]) if longer else display


def _cn_entities(sources: EntitySources) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    companies = sources.companies
    former_all = _former_names(sources.st_history)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for rec in companies.to_dict("records"):
        code = str(rec["code"])
        if code in seen:
            continue
        seen.add(code)
        short = _text(rec.get("short_name")) or code
        former = former_all.get(code, [])
        name = _restore_truncated(short, former)
        src = _text(rec.get("sources")) or ""
        bare = strip_share_class(strip_status_marks(name))
        rows.append({
            "code": code,
            "market": "CN",
            "exchange": code[-2:],
            "short_name": short,
            "name": name,
            "full_name": _text(rec.get("full_name")),
            "english_name": _text(rec.get("english_name")),
            "industry": _text(rec.get("industry")),
            "area": _text(rec.get("area")),
            "list_date": rec.get("list_date"),
            "listed": any(s in src.split(";") for s in _LISTED_SOURCES),
            "b_share_code": _text(rec.get("b_share_code")),
            "pinyin_full": full_pinyin(normalise_text(bare)),
            "pinyin_initials": pinyin_initials(normalise_text(bare)),
            "source": f"cn_listed_companies:{src}" if src else "cn_listed_companies",
        })
    # Companies that left the lists but appear in the ST snapshots (delisted, merged).
    if sources.st_history is not None and len(sources.st_history):
        hist = sources.st_history.sort_values("as_of_date").drop_duplicates("code", keep="last")
        for rec in hist.to_dict("records"):
            code = str(rec["code"])
            if code in seen:
                continue
            seen.add(code)
            short = _text(rec.get("name")) or code
            bare = strip_share_class(strip_status_marks(short))
            rows.append({
                "code": code, "market": "CN", "exchange": code[-2:], "short_name": short,
                "name": clean_short_name(short), "full_name": None, "english_name": None,
                "industry": None, "area": None, "list_date": rec.get("ipo_date"),
                "listed": False, "b_share_code": None,
                "pinyin_full": full_pinyin(normalise_text(bare)),
                "pinyin_initials": pinyin_initials(normalise_text(bare)),
                "source": "cn_st_status",
            })
    return pd.DataFrame(rows), former_all


def _us_entities(sp500: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for rec in sp500.to_dict("records"):
        ticker = str(rec["ticker"]).strip().upper()
        name = _text(rec.get("name")) or ticker
        current = _text(rec.get("name_2026"))
        rows.append({
            "code": ticker, "market": "US", "exchange": "US", "short_name": current or name,
            "name": current or name, "full_name": None, "english_name": name,
            "industry": _text(rec.get("sector")), "area": None, "list_date": None,
            "listed": current is not None, "b_share_code": None, "pinyin_full": None,
            "pinyin_initials": None, "source": "sp500_constituents",
        })
    return pd.DataFrame(rows)


def _cn_alias_rows(entities: pd.DataFrame, companies: pd.DataFrame,
                   former: dict[str, list[str]]) -> Iterator[AliasRow]:
    extras_cols = {
        "full_name": ("full_name", "full_name_in_reports"),
        "extended_name": ("extended_short_name",),
        "english_name": ("english_name",),
    }
    by_code = companies.drop_duplicates("code").set_index("code")
    cn = entities[entities["market"] == "CN"]
    for code, short, name in zip(cn["code"], cn["short_name"], cn["name"], strict=True):
        extras: dict[str, list[str]] = {}
        if code in by_code.index:
            rec = by_code.loc[code]
            for kind, cols in extras_cols.items():
                vals = [_text(rec[c]) for c in cols if c in by_code.columns]
                extras[kind] = [v for v in dict.fromkeys(vals) if v]
            spell = _text(rec["pinyin_initials"]) if "pinyin_initials" in by_code.columns else None
            if spell:
                bare = normalise_text(spell).replace("st", "", 1) if spell.upper().startswith(
                    ("*ST", "ST")) else normalise_text(spell)
                if len(compact(bare)) >= 3:
                    yield AliasRow(name, code, "pinyin_initials", 0.9, "tushare.cnspell",
                                   compact(bare))
        olds = [f for f in former.get(code, []) if f not in (short, name)]
        extras["former_name"] = olds
        if name != short:
            extras.setdefault("name", []).append(name)
        yield from _rule_aliases(code, short, extras)


def _us_alias_rows(entities: pd.DataFrame, sp500: pd.DataFrame) -> Iterator[AliasRow]:
    us = sp500.copy()
    us["ticker"] = us["ticker"].astype(str).str.strip().str.upper()
    for rec in us.to_dict("records"):
        code = rec["ticker"]
        for col in ("name", "name_2026"):
            n = _text(rec.get(col))
            if not n:
                continue
            yield AliasRow(n, code, "english_name", 1.0, f"sp500_constituents.{col}")
            legal = strip_legal_form(normalise_text(n))
            if legal and legal != normalise_text(n) and len(compact(legal)) >= 2:
                yield AliasRow(legal, code, "legal_form", 0.95, "rule:legal_form")
            short = english_without_industry(legal or normalise_text(n))
            if short:
                yield AliasRow(short, code, "core", 0.8, "rule:english_industry_word")
            first = english_first_word(legal or normalise_text(n))
            if first:
                yield AliasRow(first, code, "core", 0.75, "rule:english_first_word")


def _prefix_siblings(rows: list[AliasRow], entities: pd.DataFrame) -> list[AliasRow]:
    """Rule-made cores shared by name prefix (ANCHORS: 中信 starts 9 names, 招商 8).

    A core alias made by stripping a region or an industry word (``海天`` from
    ``海天精工``) is given, with the confidence of an industry-suffix core (0.8, never
    more than the original), to every other Chinese entity whose name starts with it
    (``海天味业``, ``海天瑞声``), so a bare ``海天`` is ambiguous rather than silently one
    of them. Curated aliases (confidence 0.95) still decide the famous
    cases (``格力`` -> 格力电器 although ``格力博`` exists).
    """
    cn = entities[entities["market"] == "CN"]
    names = sorted(
        (normalise_text(strip_share_class(strip_status_marks(str(n)))), str(c))
        for n, c in zip(cn["name"], cn["code"], strict=True)
    )
    keys = [k for k, _ in names]
    out: list[AliasRow] = []
    seen: set[tuple[str, str]] = set()
    for r in rows:
        if r.kind not in ("core", "region") or not has_cjk(r.alias):
            continue
        key = normalise_text(r.alias)
        lo = bisect.bisect_left(keys, key)
        for k, code in names[lo:]:
            if not k.startswith(key):
                break
            if code != r.code and k != key and (key, code) not in seen:
                seen.add((key, code))
                out.append(AliasRow(r.alias, code, "core", min(r.confidence, 0.8),
                                    "rule:shared_prefix"))
    return out


def _alias_frame(rows: Iterable[AliasRow], known: set[str]) -> tuple[pd.DataFrame, int]:
    records: list[dict[str, Any]] = []
    skipped = 0
    for r in rows:
        if r.code and r.code not in known:
            skipped += 1
            continue
        if r.kind == "pinyin_initials" and r.note:
            # the exchange's own initials: the key is given, the alias is the name
            key, note = r.note, "exchange initials (tushare cnspell)"
        else:
            key, note = normalise_text(r.alias), r.note
        if not compact(key):
            continue
        records.append({
            "alias": r.alias, "key": key, "code": r.code, "kind": r.kind,
            "confidence": float(r.confidence), "source": r.source, "note": note,
        })
    frame = pd.DataFrame(records)
    extra: list[dict[str, Any]] = []
    for rec in records:
        key, kind = rec["key"], rec["kind"]
        if not has_cjk(key):
            continue
        if kind in _PINYIN_FULL_KINDS or kind == "unlisted":
            extra.append({**rec, "key": full_pinyin(key), "kind": "pinyin_full"
                          if kind != "unlisted" else "unlisted",
                          "confidence": round(rec["confidence"] * 0.95, 4),
                          "source": f"pinyin({rec['source']})"})
        if kind in _PINYIN_INITIAL_KINDS:
            ini = pinyin_initials(key)
            if len(ini) >= 3:
                extra.append({**rec, "key": ini, "kind": "pinyin_initials",
                              "confidence": 0.9, "source": f"initials({rec['source']})"})
    frame = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
    frame["key"] = frame["key"].map(compact).where(
        frame["key"].map(has_cjk), frame["key"])
    frame = frame[frame["key"].str.len() > 0]
    # One row per (key, code): the most confident reading of that key for that entity.
    frame = frame.sort_values(["key", "code", "confidence"], ascending=[True, True, False])
    frame = frame.drop_duplicates(["key", "code"]).reset_index(drop=True)
    keys = frame["key"]
    cjk = keys.map(has_cjk)
    length = keys.map(lambda k: len(compact(k)))
    frame["in_text"] = frame["kind"].isin(list(_IN_TEXT_KINDS)) & (
        (cjk & (length >= 2)) | (~cjk & (length >= 3))
    ) | (frame["kind"].isin(["status", "share_class", "region", "core"]) & cjk & (length >= 3))
    frame["pinyin"] = [
        " ".join(pinyin_syllables(k)) if c else k for k, c in zip(keys, cjk, strict=True)
    ]
    frame["note"] = frame["note"].fillna("")
    return frame[list(ALIAS_COLUMNS)], skipped


class EntityBase:
    """Companies and their aliases.

    Parameters
    ----------
    entities : pandas.DataFrame
        Columns :data:`ENTITY_COLUMNS`, one row per code.
    aliases : pandas.DataFrame
        Columns :data:`ALIAS_COLUMNS`.
    info : dict, optional
        Provenance: rules version, sources and their origins, counts.

    Raises
    ------
    ResolutionError
        If a table lacks a column or codes repeat.

    Examples
    --------
    Build from the datasets (or the bundled fallback), save, load:

    >>> base = EntityBase.from_settings()          # doctest: +SKIP
    >>> with Store(":memory:") as store:           # doctest: +SKIP
    ...     _ = base.save(store)
    ...     again = EntityBase.load(store)
    """

    def __init__(
        self, entities: pd.DataFrame, aliases: pd.DataFrame, info: dict[str, Any] | None = None
    ) -> None:
        for name, frame, cols in (("entities", entities, ENTITY_COLUMNS),
                                  ("aliases", aliases, ALIAS_COLUMNS)):
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise ResolutionError(f"entity base {name} table lacks columns {missing}.")
        dup = entities["code"][entities["code"].duplicated()]
        if len(dup):
            raise ResolutionError(
                f"entity base: {len(dup)} duplicated codes, e.g. {dup.iloc[0]!r}."
            )
        self.entities = entities[list(ENTITY_COLUMNS)].reset_index(drop=True)
        self.aliases = aliases[list(ALIAS_COLUMNS)].reset_index(drop=True)
        self.info = dict(info or {})
        self._by_code = {rec["code"]: rec for rec in self.entities.to_dict("records")}

    # -- building ------------------------------------------------------------------------
    @classmethod
    def build(cls, sources: EntitySources) -> EntityBase:
        """Build the base from loaded source frames (see :func:`load_entity_sources`).

        Parameters
        ----------
        sources : EntitySources

        Returns
        -------
        EntityBase
        """
        cn, former = _cn_entities(sources)
        us = _us_entities(sources.sp500)
        entities = pd.concat([cn, us], ignore_index=True)
        entities = entities.drop_duplicates("code").reset_index(drop=True)
        entities["list_date"] = pd.to_datetime(entities["list_date"])
        entities["listed"] = entities["listed"].astype(bool)
        for col in _TEXT_ENTITY_COLUMNS:
            entities[col] = entities[col].astype("str").where(entities[col].notna(), None)
        known = set(entities["code"])
        rows: list[AliasRow] = list(_cn_alias_rows(entities, sources.companies, former))
        rows += _prefix_siblings(rows, entities)
        rows += list(_us_alias_rows(entities, sources.sp500))
        rows += load_curated_aliases()
        rows += [AliasRow(n, "", "unlisted", 1.0, "curated:unlisted_names.csv", note)
                 for n, note in load_unlisted_names()]
        aliases, skipped = _alias_frame(rows, known)
        info = {
            "rules_version": RULES_VERSION,
            "rules_fingerprint": rules_fingerprint(),
            "origins": sources.origins,
            "entities": len(entities),
            "aliases": len(aliases),
            "curated_rows_skipped": skipped,
        }
        return cls(entities, aliases, info)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> EntityBase:
        """Build from the registered datasets, or the bundled lists when they are missing.

        Parameters
        ----------
        settings : Settings, optional
            Where to look for the datasets; ``Settings()`` when omitted.
        """
        return cls.build(load_entity_sources(settings))

    # -- persistence ---------------------------------------------------------------------
    def save(self, store: Store) -> dict[str, Any]:
        """Write the base to ``store`` in one transaction (all three tables or none).

        Returns
        -------
        dict
            Table name -> :class:`~riskmoe.data.store.TableVersion`.
        """
        info = pd.DataFrame({
            "key": list(self.info), "value": [json.dumps(v) for v in self.info.values()],
        })
        return store.ingest_many({
            TABLE_ENTITIES: self.entities, TABLE_ALIASES: self.aliases, TABLE_INFO: info,
        })

    @classmethod
    def load(cls, store: Store) -> EntityBase:
        """Read the latest saved base from ``store``.

        Raises
        ------
        ResolutionError
            If the store holds no entity base, or one saved by other alias rules.
        """
        names = set(store.names())
        missing = [t for t in (TABLE_ENTITIES, TABLE_ALIASES, TABLE_INFO) if t not in names]
        if missing:
            raise ResolutionError(
                f"the store holds no entity base (missing tables {missing}); build one with "
                "EntityBase.from_settings(settings).save(store)."
            )
        try:
            entities = store.table(TABLE_ENTITIES)
            aliases = store.table(TABLE_ALIASES)
            raw_info = store.table(TABLE_INFO)
        except StoreError as exc:  # pragma: no cover - names() said they exist
            raise ResolutionError(f"cannot read the entity base: {exc}") from exc
        info = {k: json.loads(v) for k, v in zip(raw_info["key"], raw_info["value"],
                                                  strict=True)}
        current = rules_fingerprint()
        if info.get("rules_fingerprint") != current:
            raise ResolutionError(
                "the stored entity base was built by other alias rules or curated tables "
                f"(rules version {info.get('rules_version')!r}, fingerprint "
                f"{info.get('rules_fingerprint')!r}; now {RULES_VERSION!r}, {current!r}); "
                "rebuild it with EntityBase.from_settings(settings).save(store)."
            )
        for col in _TEXT_ENTITY_COLUMNS:
            entities[col] = entities[col].astype(object).where(entities[col].notna(), None)
        entities["listed"] = entities["listed"].astype(bool)
        aliases["confidence"] = aliases["confidence"].astype(float)
        aliases["in_text"] = aliases["in_text"].astype(bool)
        for col in ("alias", "key", "code", "kind", "source", "note", "pinyin"):
            aliases[col] = aliases[col].fillna("").astype(str)
        return cls(entities, aliases, info)

    # -- access --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entities)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def codes(self) -> list[str]:
        """Every code, in table order."""
        return list(self._by_code)

    def entity(self, code: str) -> Entity:
        """The entity with ``code``.

        Raises
        ------
        ResolutionError
            If no entity has that code.
        """
        try:
            rec = self._by_code[code]
        except KeyError:
            raise ResolutionError(f"no entity with code {code!r} in the entity base.") from None
        d = pd.Timestamp(rec["list_date"]) if rec["list_date"] is not None else pd.NaT
        return Entity(
            **{k: _text(rec[k]) for k in _TEXT_ENTITY_COLUMNS if k not in (
                "code", "market", "exchange", "short_name", "name", "source")},
            code=rec["code"], market=rec["market"], exchange=rec["exchange"],
            short_name=rec["short_name"], name=rec["name"], source=rec["source"],
            list_date=None if pd.isna(d) else d.date(), listed=bool(rec["listed"]),
        )

    def name_of(self, code: str) -> str:
        """Display name of ``code`` (the code itself when unknown)."""
        rec = self._by_code.get(code)
        return str(rec["name"]) if rec is not None else code

    def aliases_of(self, code: str) -> pd.DataFrame:
        """Every alias row of ``code``."""
        return self.aliases[self.aliases["code"] == code].reset_index(drop=True)

    def mention_names(self, code: str) -> list[str]:
        """Names under which a text may mention ``code``, longest first.

        The aliases the resolver also matches inside a sentence (short, former, full and
        English names, curated colloquial names; not pinyin, not the two-character cores),
        for finding news that names the company (``cn_risk_events``). A name shared with
        another company (``平安``) is left out. The names are normalised: look for them in
        ``normalise_text(text)``.

        Examples
        --------
        >>> base.mention_names("600519.SH")   # doctest: +SKIP
        ['kweichow moutai co ltd', 'kweichow moutai', '贵州茅台酒股份有限公司', 'moutai',
         '贵州茅台酒', '贵州茅台', '茅台酒', '茅台']
        """
        al = self.aliases
        rows = al[(al["code"] == code) & al["in_text"]]
        shared = set(al.loc[al["key"].isin(rows["key"]) & (al["code"] != code), "key"])
        keys = [k for k in dict.fromkeys(rows["key"]) if k not in shared]
        return sorted(keys, key=lambda k: (-len(k), k))

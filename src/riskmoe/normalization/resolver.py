"""The resolver: from whatever people type to one entity, or an honest abstention.

The cascade (each stage runs only when the ones before it found nothing):

1. **Codes.** A-share codes in every common form (``600519``, ``600519.SH``, ``SH600519``,
   ``sh.600519``, ``600519.SS``, ``000858.sz``; B-share codes map to their company) and
   US tickers (``AAPL``; inside a sentence only when written in capitals).
2. **Exact aliases.** The whole normalised text, each mention left after cutting out
   filler, risk and period words, and every alias found inside the text by an
   Aho-Corasick automaton (longest match; Latin aliases only at word boundaries). Pinyin
   keys (``gzmt``, ``guizhoumaotai``) are aliases too, so pinyin is resolved here; shared
   initials (``zsyh``: 招商银行 and 浙商银行) come back as candidates, never as a guess.
3. **TF-IDF + fuzzy.** Character n-gram TF-IDF (scikit-learn; 1-3-grams over Chinese keys,
   2-4-grams over Latin ones) proposes the ``top_k`` closest alias keys, joined by the
   aliases that sound exactly like the mention; each is scored with rapidfuzz's normalised
   Indel similarity, homophone-aware for Chinese::

       score = confidence * (0.5 * ratio(chars) + 0.5 * ratio(pinyin syllables))

   so ``贵州矛台`` scores 0.875 against ``贵州茅台``; Latin names score half on the whole
   string and half on their distinctive words (``electronics`` shared by two names does not
   make them alike); a Latin mention is also compared with the pinyin of Chinese keys.
   ``ratio`` compares whole strings: ``WRatio``/``partial_ratio`` would score a short name
   inside a long one at 100.
4. **Abstain.**

Abstention rule: an exact alias resolves when its confidence beats every other entity
on the same mention by ``alias_margin``; otherwise the entities sharing it are returned as
candidates (``平安`` -> 中国平安, 平安银行). A fuzzy match resolves only when the mention
has at least ``min_fuzzy_cjk`` Chinese characters (``min_fuzzy_latin`` letters), its score
reaches ``accept`` and it leads the runner-up entity by ``margin``. Two mentions naming
different companies about as strongly (``茅台和五粮液``) abstain with both. When the only
exact evidence is an alias inside a longer mention (``招商`` in ``招商银航``), a fuzzy match
of the whole mention wins if it resolves to an alias containing that span. Names in the
curated table of famous unlisted companies (``华为``, ``恒大``) always abstain, with the
note.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import ahocorasick
import numpy as np
from rapidfuzz import fuzz
from sklearn.feature_extraction.text import TfidfVectorizer

from riskmoe.config import Settings
from riskmoe.data.loaders.cn_corporate import normalise_code
from riskmoe.data.store import Store
from riskmoe.exceptions import DataFormatError, ResolutionError
from riskmoe.normalization.aliases import EN_GENERIC_WORDS, strip_legal_form
from riskmoe.normalization.entities import RULES_VERSION, EntityBase
from riskmoe.normalization.pinyin import install_overrides, pinyin_syllables
from riskmoe.normalization.text import compact, has_cjk, is_cjk_char, normalise_text
from riskmoe.normalization.vocabulary import TICKER_STOPWORDS, split_mentions

__all__ = ["Candidate", "EntityResolver", "Method", "Resolution", "ResolverConfig"]

Method = Literal["code", "ticker", "alias", "pinyin", "fuzzy", "none"]

_CN_CODE = re.compile(
    r"(?<![0-9A-Za-z])(?:(SH|SZ|BJ|SS)\s*[.:]?\s*)?(\d{6})(?:\s*\.\s*(SH|SZ|BJ|SS))?(?![0-9])",
    re.IGNORECASE,
)
_WHOLE_TICKER = re.compile(r"^\$?([A-Za-z]{1,5})(?:[.\-/ ]([A-Za-z]))?$")
_TICKER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9.$])\$?([A-Z]{1,5}(?:\.[A-Z])?)(?![A-Za-z0-9])")
_STATUS_PREFIX = re.compile(r"^(?:s?\*?st|pt|xd|xr|dr)(?=[\u3400-\u9fff])")
_LATIN_RUN = re.compile(r"[a-z]{2,}")
_BAD_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
_PINYIN_KINDS = frozenset({"pinyin_full", "pinyin_initials"})
# No alias key is longer than ~75 characters; a longer mention cannot be a close match.
_MAX_FUZZY = 96


def _distinctive_words(text: str) -> str:
    return "".join(w for w in text.split() if w not in EN_GENERIC_WORDS)


class Candidate(NamedTuple):
    """A candidate entity: ``(code, name, score)``."""

    code: str
    name: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"code": self.code, "name": self.name, "score": round(float(self.score), 4)}


@dataclass(frozen=True)
class Resolution:
    """The answer of :meth:`EntityResolver.resolve`.

    Attributes
    ----------
    query : str
        The text as given.
    code, name : str or None
        The entity (``None`` when abstaining).
    score : float
        Confidence in [0, 1] of the chosen entity (of the best candidate when abstaining).
    method : {"code", "ticker", "alias", "pinyin", "fuzzy", "none"}
        The cascade stage that decided.
    candidates : tuple of Candidate
        The best entities, best first (the chosen one first when resolved).
    abstained : bool
        True when no single entity could be chosen.
    reason : str
        Why it resolved or abstained, in words.
    mention : str or None
        The piece of normalised text that matched.
    """

    query: str
    code: str | None
    name: str | None
    score: float
    method: Method
    candidates: tuple[Candidate, ...]
    abstained: bool
    reason: str
    mention: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (the ``riskmoe resolve --json`` line)."""
        return {
            "query": self.query,
            "code": self.code,
            "name": self.name,
            "score": round(float(self.score), 4),
            "method": self.method,
            "abstained": self.abstained,
            "candidates": [c.to_dict() for c in self.candidates],
            "reason": self.reason,
            "mention": self.mention,
        }


@dataclass(frozen=True)
class ResolverConfig:
    """Thresholds of the cascade (tuned on the ``tune`` split of the dev set only).

    Parameters
    ----------
    accept : float
        Lowest fuzzy score that may resolve.
    margin : float
        Lowest lead of the best fuzzy entity over the runner-up.
    alias_margin : float
        Lowest confidence lead of an exact alias over another entity with the same alias.
    min_fuzzy_cjk, min_fuzzy_latin : int
        Shortest mention (Chinese characters / Latin letters) a fuzzy match may resolve.
    top_k : int
        Alias keys TF-IDF proposes per mention.
    max_candidates : int
        Candidates returned.
    max_length : int
        Longest query accepted, in characters.
    """

    accept: float = 0.80
    margin: float = 0.05
    alias_margin: float = 0.10
    min_fuzzy_cjk: int = 3
    min_fuzzy_latin: int = 4
    top_k: int = 40
    max_candidates: int = 10
    max_length: int = 1000

    def __post_init__(self) -> None:
        for name in ("accept", "margin", "alias_margin"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]; got {v}.")
        for name in ("min_fuzzy_cjk", "min_fuzzy_latin", "top_k", "max_candidates",
                     "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}.")


@dataclass
class _Hit:
    """Evidence for one mention: entity code -> best score, and how it was found."""

    mention: str
    scores: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    whole: bool = False
    notes: list[str] = field(default_factory=list)

    def add(self, code: str, score: float, kind: str, note: str = "") -> None:
        if score > self.scores.get(code, -1.0):
            self.scores[code] = score
            self.kinds[code] = kind
        if note and note not in self.notes:
            self.notes.append(note)

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.scores.items(), key=lambda kv: (-kv[1], kv[0]))


def _check_text(text: object, max_length: int) -> str:
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ResolutionError(
                f"the query is not UTF-8 text (undecodable byte at position {exc.start}); "
                "give a company name, stock code or question."
            ) from None
    if not isinstance(text, str):
        raise ResolutionError(f"the query must be text; got {type(text).__name__}.")
    if not text.strip():
        raise ResolutionError(
            "the query is empty; give a company name (贵州茅台, 茅台, gzmt), a stock code "
            "(600519.SH, AAPL) or a question."
        )
    if len(text) > max_length:
        raise ResolutionError(
            f"the query is {len(text):,} characters long; at most {max_length:,} are "
            "accepted (one company name, code or question)."
        )
    bad = sum(1 for ch in text if unicodedata.category(ch) in _BAD_CATEGORIES
              and ch not in "\t\n\r")
    if bad > max(2, 0.2 * len(text)):
        raise ResolutionError(
            f"the query looks like binary data: {bad} of its {len(text)} characters are "
            "control, surrogate or unassigned code points."
        )
    return text


class EntityResolver:
    """Resolve names, codes and questions to entities of an :class:`EntityBase`.

    Parameters
    ----------
    base : EntityBase
        Companies and aliases.
    config : ResolverConfig, optional
        Thresholds.

    Examples
    --------
    >>> resolver = EntityResolver.default()          # doctest: +SKIP
    >>> resolver.resolve("招行最近的信用风险?").code  # doctest: +SKIP
    '600036.SH'
    """

    def __init__(self, base: EntityBase, config: ResolverConfig | None = None) -> None:
        self.base = base
        self.config = config if config is not None else ResolverConfig()
        self._build_indexes()

    # -- construction --------------------------------------------------------------------
    @classmethod
    def default(
        cls,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        config: ResolverConfig | None = None,
    ) -> EntityResolver:
        """The resolver over the default entity base.

        With a ``store``, the base saved there is used when it was built by the current
        alias rules; otherwise it is built from the datasets (or the bundled lists, see
        :func:`~riskmoe.normalization.load_entity_sources`) and saved to the store.

        Parameters
        ----------
        settings : Settings, optional
            Where to look for the datasets.
        store : Store, optional
            Cache of the built base.
        config : ResolverConfig, optional
        """
        base: EntityBase | None = None
        if store is not None:
            try:
                base = EntityBase.load(store)
            except ResolutionError:
                base = None
        if base is None:
            base = EntityBase.from_settings(settings)
            if store is not None:
                base.save(store)
        return cls(base, config)

    def _build_indexes(self) -> None:
        install_overrides()  # imports pypinyin now rather than on the first query
        aliases = self.base.aliases
        self._names = {c: self.base.name_of(c) for c in self.base.codes}
        # exact: compact key -> [(code, confidence, kind, note)]
        exact: dict[str, list[tuple[str, float, str, str]]] = {}
        for key, code, conf, kind, note in zip(
            aliases["key"], aliases["code"], aliases["confidence"], aliases["kind"],
            aliases["note"], strict=True,
        ):
            exact.setdefault(compact(key), []).append((code, float(conf), kind, note))
        self._exact = exact
        automaton = ahocorasick.Automaton()
        in_text = aliases[aliases["in_text"]]
        for key in set(in_text["key"]):
            automaton.add_word(key, key)
        automaton.make_automaton()
        self._automaton = automaton
        # codes and tickers
        ents = self.base.entities
        cn = ents["market"] == "CN"
        # 6-digit code -> entity; a B-share code leads to its company's A-share entity
        self._code6 = {str(c)[:6]: str(c) for c in ents.loc[cn, "code"]}
        for code, b_code in zip(ents["code"], ents["b_share_code"], strict=True):
            if isinstance(b_code, str) and b_code[:6] not in self._code6:
                self._code6[b_code[:6]] = str(code)
        # ticker as typed (BRK.B, BRKB, BRK-B, BRK/B) -> ticker
        self._tickers: dict[str, str] = {}
        for t in ents.loc[~cn, "code"]:
            t = str(t)
            self._tickers[t] = t
            self._tickers.setdefault(t.replace(".", ""), t)
        self._ticker_codes = frozenset(self._tickers.values())
        # fuzzy: character n-gram TF-IDF over the keys (pinyin initials excluded: too short
        # to compare), one index per script. Chinese keys use 1-3-grams (one character
        # carries meaning); Latin keys (English names, full pinyin) 2-4-grams, because
        # single letters match nearly every key and only cost time.
        fuzzy = aliases[aliases["kind"] != "pinyin_initials"]
        keys = sorted(set(fuzzy["key"].map(compact)))
        self._tfidf: dict[bool, tuple[TfidfVectorizer, Any, np.ndarray]] = {}
        for cjk, ngrams in ((True, (1, 3)), (False, (2, 4))):
            part = [k for k in keys if has_cjk(k) == cjk]
            vectorizer = TfidfVectorizer(
                analyzer="char", ngram_range=ngrams, sublinear_tf=True, dtype=np.float32,
            )
            matrix = vectorizer.fit_transform(part).T.tocsr()
            self._tfidf[cjk] = (vectorizer, matrix, np.array(part, dtype=object))
        # compact key -> the key with its spaces (for word-level comparisons)
        self._spaced = {compact(k): k for k in aliases["key"] if " " in k}
        self._key_pinyin: dict[str, str] = {}
        self._homophones: dict[str, list[str]] = {}
        for key, py in zip(aliases["key"], aliases["pinyin"], strict=True):
            if has_cjk(key):
                self._key_pinyin[key] = py
                self._homophones.setdefault(py.replace(" ", ""), []).append(key)

    # -- public API ----------------------------------------------------------------------
    def resolve(self, text: str) -> Resolution:
        """Resolve one name, code or question.

        Parameters
        ----------
        text : str
            What the user typed (``"招行"``, ``"sh600519"``, ``"貴州茅台"``,
            ``"What is the market risk of Apple?"``). Bytes are decoded as UTF-8.

        Returns
        -------
        Resolution
            ``abstained=True`` with candidates when no single entity can be chosen.

        Raises
        ------
        ResolutionError
            For an empty query, one longer than ``config.max_length`` characters, bytes
            that are not UTF-8 or text that is mostly control characters.
        """
        text = _check_text(text, self.config.max_length)
        norm = normalise_text(text)
        if not norm:
            return self._abstain(text, "the query has no letters or digits to match.", [])
        coded = self._by_code(text, norm)
        if coded is not None:
            return coded
        mentions = self._mentions(norm)
        exact = self._exact_hits(norm, mentions)
        if not exact:
            return self._fuzzy_match(text, mentions)[0]
        decided = self._decide_exact(text, exact)
        if all(not h.whole for h in exact):
            # Only aliases found inside longer mentions (招商 in 招商银航): a close fuzzy
            # match of a whole mention explains more of the text and wins when it resolves.
            spans = [compact(h.mention) for h in exact]
            longer = [m for m in mentions if any(s in compact(m) and s != compact(m)
                                                 for s in spans)]
            if longer:
                fuzzy, via = self._fuzzy_match(text, longer)
                # ... but only when the alias it matched contains the span, so the span is
                # explained rather than contradicted (Gree Electric is not GE).
                if not fuzzy.abstained and any(sp in via for sp in spans):
                    return fuzzy
        return decided

    def resolve_many(self, texts: Iterable[str]) -> list[Resolution]:
        """:meth:`resolve` for each text."""
        return [self.resolve(t) for t in texts]

    @property
    def info(self) -> dict[str, Any]:
        """Provenance of the entity base and the thresholds."""
        return {**self.base.info, "rules_version": RULES_VERSION,
                "config": dict(self.config.__dict__)}

    # -- helpers -------------------------------------------------------------------------
    def _candidates(self, ranked: Sequence[tuple[str, float]]) -> list[Candidate]:
        out = [Candidate(c, self._names.get(c, c), round(float(s), 4))
               for c, s in ranked if c]
        return out[: self.config.max_candidates]

    def _abstain(self, query: str, reason: str, ranked: Sequence[tuple[str, float]],
                 method: Method = "none", mention: str | None = None) -> Resolution:
        cands = self._candidates(ranked)
        score = cands[0].score if cands else 0.0
        return Resolution(query, None, None, score, method, tuple(cands), True, reason,
                          mention)

    def _resolved(self, query: str, code: str, score: float, method: Method,
                  ranked: Sequence[tuple[str, float]], reason: str,
                  mention: str | None) -> Resolution:
        ranked = [(code, score)] + [(c, s) for c, s in ranked if c != code]
        return Resolution(query, code, self._names.get(code, code), round(float(score), 4),
                          method, tuple(self._candidates(ranked)), False, reason, mention)

    # -- stage 1: codes ------------------------------------------------------------------
    def _by_code(self, text: str, norm: str) -> Resolution | None:
        raw = unicodedata.normalize("NFKC", text).strip()
        found: dict[str, str] = {}
        unknown: list[str] = []
        for m in _CN_CODE.finditer(raw):
            code6 = m.group(2)
            try:
                full = normalise_code(code6)
            except DataFormatError:
                continue
            code = self._code6.get(code6)
            if code is None:
                unknown.append(full)
            else:
                found.setdefault(code, m.group(0))
        whole = _WHOLE_TICKER.match(raw)
        if whole:
            typed = whole.group(1).upper() + (
                f".{whole.group(2).upper()}" if whole.group(2) else "")
            ticker = self._tickers.get(typed) or self._tickers.get(typed.replace(".", ""))
            if ticker is not None:
                found.setdefault(ticker, raw)
        else:
            for m in _TICKER_IN_TEXT.finditer(raw):
                t = m.group(1)
                if t in self._tickers and t not in TICKER_STOPWORDS and len(t) >= 2:
                    found.setdefault(self._tickers[t], m.group(0))
        if len(found) == 1:
            code, mention = next(iter(found.items()))
            method: Method = "ticker" if code in self._ticker_codes else "code"
            return self._resolved(text, code, 1.0, method, [], f"{method} {mention.strip()}",
                                  mention.strip())
        if len(found) > 1:
            ranked = [(c, 1.0) for c in found]
            return self._abstain(text, "several codes in the query: "
                                 + ", ".join(found), ranked, "code")
        if unknown and not has_cjk(norm.replace(" ", "")) and norm.replace(" ", "").isalnum() \
                and len(compact(norm)) <= 12:
            return self._abstain(text, f"code {unknown[0]} is not in the entity base "
                                 "(not listed, or listed after the source lists were made).",
                                 [], "code", unknown[0])
        return None

    # -- stage 2: exact aliases ----------------------------------------------------------
    def _mentions(self, norm: str) -> list[str]:
        pieces = [norm]
        for piece in split_mentions(norm):
            if piece not in pieces:
                pieces.append(piece)
            for run in _LATIN_RUN.findall(piece):
                if run != piece and run not in pieces and has_cjk(piece):
                    pieces.append(run)
        return pieces

    def _variants(self, mention: str) -> list[str]:
        key = compact(mention)
        out = [key]
        stripped = _STATUS_PREFIX.sub("", key)
        if stripped != key:
            out.append(stripped)
        legal = compact(strip_legal_form(mention))
        if legal and legal not in out and len(legal) >= 2:
            out.append(legal)
        return out

    def _lookup(self, key: str, hit: _Hit) -> bool:
        rows = self._exact.get(key)
        if not rows:
            return False
        for code, conf, kind, note in rows:
            hit.add(code, conf, kind, note if kind == "unlisted" else "")
        return True

    def _exact_hits(self, norm: str, mentions: list[str]) -> list[_Hit]:
        hits: list[_Hit] = []
        whole = _Hit(norm, whole=True)
        for variant in self._variants(norm):
            if self._lookup(variant, whole):
                return [whole]
        spans: list[tuple[int, int, str]] = []
        for end, key in self._automaton.iter_long(norm):
            start = end - len(key) + 1
            if not has_cjk(key):
                before = norm[start - 1] if start > 0 else " "
                after = norm[end + 1] if end + 1 < len(norm) else " "
                if before.isalnum() and not is_cjk_char(before):
                    continue
                if after.isalnum() and not is_cjk_char(after):
                    continue
            spans.append((start, end, key))
        covered: list[tuple[int, int]] = []
        for start, end, key in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
            if any(not (end < s or start > e) for s, e in covered):
                continue
            covered.append((start, end))
            hit = _Hit(key)
            self._lookup(compact(key), hit)
            # found inside a longer text: slightly weaker than a whole mention
            hit.scores = {c: s * 0.97 for c, s in hit.scores.items()}
            hits.append(hit)
        for mention in mentions[1:]:
            same = [h for h in hits if compact(h.mention) == compact(mention)]
            if same:
                # the span is a whole mention after all: no in-text discount
                hits.remove(same[0])
            hit = _Hit(mention, whole=True)
            for variant in self._variants(mention):
                if self._lookup(variant, hit):
                    break
            if hit.scores:
                # a whole mention beats an in-text span it contains
                hits = [h for h in hits if compact(h.mention) not in compact(mention)]
                hits.append(hit)
        return hits

    def _method_of(self, hit: _Hit, code: str) -> Method:
        return "pinyin" if hit.kinds.get(code) in _PINYIN_KINDS else "alias"

    def _decide_exact(self, text: str, hits: list[_Hit]) -> Resolution:
        cfg = self.config
        # the strongest mention decides; another mention naming a different company
        # about as strongly makes the question ambiguous
        best = max(hits, key=lambda h: (h.ranked()[0][1], len(compact(h.mention))))
        ranked = best.ranked()
        top_code, top = ranked[0]
        if top_code == "":
            # show the look-alikes, so the user sees what was deliberately not chosen
            others = [(c, s) for c, s in ranked if c] or [
                (c, s) for c, s in self._rank(best.mention)[0][:5] if c]
            note = best.notes[0] if best.notes else "not listed here"
            return self._abstain(text, f"{best.mention!r} names a company that is not in "
                                 f"the entity base: {note}", others, "alias", best.mention)
        rivals = []
        for h in hits:
            if h is best:
                continue
            r = h.ranked()
            if r[0][0] and r[0][0] != top_code and r[0][1] > top - cfg.alias_margin + 1e-9:
                rivals.append(r[0])
        if rivals:
            return self._abstain(text, "several companies are named: " + ", ".join(
                self._names.get(c, c) for c, _ in [(top_code, top), *rivals]),
                [(top_code, top), *rivals], "alias", best.mention)
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if top - second < cfg.alias_margin - 1e-9:
            tied = [(c, s) for c, s in ranked if c]
            names = ", ".join(self._names.get(c, c) for c, s in tied if s >= top - cfg.alias_margin)
            return self._abstain(text, f"{best.mention!r} is shared by several companies "
                                 f"({names}); say which.", tied, self._method_of(best, top_code),
                                 best.mention)
        return self._resolved(text, top_code, top, self._method_of(best, top_code), ranked,
                              f"{best.kinds[top_code]} alias {best.mention!r}", best.mention)

    # -- stage 3: TF-IDF + fuzzy ---------------------------------------------------------
    def _propose(self, key: str) -> list[str]:
        """The ``top_k`` alias keys of the same script closest to ``key`` by TF-IDF cosine."""
        vectorizer, matrix, keys = self._tfidf[has_cjk(key)]
        vec = vectorizer.transform([key])
        if vec.nnz == 0:
            return []
        # vec: 1 x V (l2-normalised); matrix: V x N -> cosine with every key that shares
        # an n-gram (a sparse row: only those are scored)
        sims = (vec @ matrix).tocsr()
        if sims.nnz == 0:
            return []
        k = min(self.config.top_k, sims.nnz)
        top = np.argpartition(-sims.data, k - 1)[:k]
        return [str(keys[i]) for i in sims.indices[top]]

    def _score(self, mention: str, mention_py: str, key: str, mention_words: str = "") -> float:
        key_c = compact(key)
        if has_cjk(mention):
            if not has_cjk(key_c):
                return 0.0
            chars = fuzz.ratio(mention, key_c) / 100.0
            sound = fuzz.ratio(mention_py, self._key_pinyin.get(key_c, "")) / 100.0
            return 0.5 * chars + 0.5 * sound
        if has_cjk(key_c):
            return fuzz.ratio(mention, self._key_pinyin.get(key_c, "").replace(" ", "")) / 100.0
        whole = fuzz.ratio(mention, key_c) / 100.0
        # Shared industry words ("electronics") must not make two names look alike: half
        # of the score compares only the distinctive words.
        q_core = _distinctive_words(mention_words)
        k_core = _distinctive_words(key)
        if q_core and k_core:
            return 0.5 * whole + 0.5 * fuzz.ratio(q_core, k_core) / 100.0
        return whole

    def _rank(self, mention: str) -> tuple[list[tuple[str, float]], dict[str, str]]:
        """Entities by fuzzy score for one mention, and the alias key each matched."""
        key = compact(mention)
        cjk = has_cjk(key)
        if not key or key.isdigit() or len(key) < (2 if cjk else 3) or len(key) > _MAX_FUZZY:
            return [], {}
        keys = set(self._propose(key))
        mention_py = " ".join(pinyin_syllables(key)) if cjk else ""
        if cjk:
            keys.update(self._homophones.get(mention_py.replace(" ", ""), ()))
        scores: dict[str, float] = {}
        via: dict[str, str] = {}
        for k in keys:
            sim = self._score(key, mention_py, self._spaced.get(k, k), mention)
            if sim <= 0:
                continue
            for code, conf, _kind, _note in self._exact.get(k, ()):
                s = sim * conf
                if s > scores.get(code, 0.0):
                    scores[code] = s
                    via[code] = k
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])), via

    def _fuzzy_match(self, text: str, mentions: list[str]) -> tuple[Resolution, str]:
        """Best fuzzy resolution over the mentions, and the alias key it matched."""
        cfg = self.config
        best_res: tuple[float, str, list[tuple[str, float]], dict[str, str]] | None = None
        for mention in mentions:
            ranked, via = self._rank(mention)
            if ranked and (best_res is None or ranked[0][1] > best_res[0]):
                best_res = (ranked[0][1], mention, ranked, via)
        if best_res is None:
            return self._abstain(text, "no company name, code or alias found in the query.",
                                 []), ""
        top, mention, ranked, via = best_res
        top_code = ranked[0][0]
        matched = via[top_code]
        key = compact(mention)
        cjk = has_cjk(key)
        long_enough = len(key) >= (cfg.min_fuzzy_cjk if cjk else cfg.min_fuzzy_latin)
        listed = [(c, s) for c, s in ranked if c]
        second = next((s for c, s in ranked[1:] if c != top_code), 0.0)
        reason = ""
        if top_code == "":
            reason = f"{mention!r} is closest to a company that is not in the entity base."
        elif not long_enough:
            reason = f"{mention!r} matches no alias exactly and is too short for a fuzzy match."
        elif top < cfg.accept:
            reason = (f"no alias is close enough to {mention!r} "
                      f"(best {top:.2f} < {cfg.accept:.2f}).")
        elif top - second < cfg.margin:
            reason = (f"{mention!r} is about as close to several companies "
                      f"({top:.2f} vs {second:.2f}).")
        if reason:
            return self._abstain(text, reason, listed, "fuzzy", mention), matched
        found = self._resolved(text, top_code, top, "fuzzy", listed,
                               f"fuzzy match of {mention!r} to {matched!r}", mention)
        return found, matched

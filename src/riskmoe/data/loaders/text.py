"""Financial text datasets: Financial PhraseBank (English sentiment), FinFE / FinNSP (Chinese
financial sentiment and negative news) and FinESE (Chinese risk events with their subject).

Each dataset's quirks are decoded here, in one place, citing its README in
``shared/data/<folder>/README.md``:

* ``financial_phrasebank/README.md`` -- Latin-1 with CRLF line ends; the label follows the
  *last* ``@``; 50Agree has 8 duplicated sentences, 2 with conflicting labels (flagged,
  not dropped: the README documents them and prescribes no removal).
* ``cn_financial_text_cfleb/README.md`` -- FinFE labels 0 negative, 1 neutral, 2 positive;
  duplicated texts, conflicting labels and train/eval leakage ("deduplicate before
  evaluating": flagged here so the caller can); FinNSP train has an embedded header row
  ("drop it": dropped).
* ``cn_financial_event_subject_finese/README.md`` -- records ``[id, text, event_type,
  entity]``; the missing entity is the literal string ``"NaN"`` when ``event_type`` is
  ``其他``; multi-event texts are split into several rows (legitimate, kept); exact
  duplicate rows and train/eval overlap (flagged).

Flags shared by the loaders (all boolean): ``is_duplicate`` -- an earlier row of the same
split has the same key; ``label_conflict`` -- the text carries more than one label within
its split; ``in_train`` -- an eval row whose text also occurs in train.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from riskmoe.data._dataset import FileLocator, Loaded, SourceFile
from riskmoe.data._registry import register
from riskmoe.exceptions import DataFormatError, SchemaError

__all__: list[str] = []

_SPLITS = ("train", "eval")

# ---------------------------------------------------------------------------------------
# Shared helpers: JSON-list records and duplicate / leakage flags
# ---------------------------------------------------------------------------------------


def _read_json_records(path: Path) -> list[list[Any]]:
    """A UTF-8 JSON array of records (each a JSON list), with specific errors."""
    try:
        # utf-8-sig: the top-level README says some cn_* files start with a BOM.
        records = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: cannot decode as UTF-8 at byte {exc.start}.") from exc
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "the file may be truncated."
        ) from exc
    if not isinstance(records, list) or not all(isinstance(r, list) for r in records):
        raise DataFormatError(f"{path}: expected a JSON array of records (lists).")
    return records


def _records_frame(records: list[list[Any]], columns: list[str], path: Path) -> pd.DataFrame:
    widths = {len(r) for r in records}
    if widths - {len(columns)}:
        raise DataFormatError(
            f"{path}: every record must have {len(columns)} fields {columns}; "
            f"found record lengths {sorted(widths)}."
        )
    return pd.DataFrame(records, columns=columns, dtype="str")


def _split_frames(
    files: FileLocator,
    sources: dict[str, SourceFile],
    read: Callable[[Path], pd.DataFrame],
) -> pd.DataFrame:
    """Read each split with ``read(path)`` and stack them with a ``split`` column."""
    parts = []
    for split in _SPLITS:
        part = read(files.path(sources[split]))
        part["split"] = split
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame["split"] = pd.Categorical(frame["split"], categories=list(_SPLITS))
    return frame


def _flag_repeats(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """True where an earlier row of the same split has the same ``keys``."""
    by = ["split", *keys] if "split" in frame.columns else keys
    return frame.duplicated(by, keep="first")


def _flag_conflicts(frame: pd.DataFrame, text: str, label: str) -> pd.Series:
    """True where the row's text carries more than one distinct label within its split."""
    by = ["split", text] if "split" in frame.columns else [text]
    return frame.groupby(by, observed=True)[label].transform("nunique").gt(1)


def _flag_in_train(frame: pd.DataFrame, text: str) -> pd.Series:
    """True for eval rows whose text also occurs in the train split (leakage)."""
    train_texts = frame.loc[frame["split"] == "train", text]
    return (frame["split"] == "eval") & frame[text].isin(train_texts)


def _flag_summary(frame: pd.DataFrame) -> str:
    counts = {
        col: int(frame[col].sum())
        for col in ("is_duplicate", "label_conflict", "in_train")
        if col in frame.columns
    }
    return f"rows flagged, not dropped (deduplicate before evaluating): {counts}."


# ---------------------------------------------------------------------------------------
# Financial PhraseBank v1.0
# ---------------------------------------------------------------------------------------

_FPB_FILES = {
    "50": ("Sentences_50Agree.txt", "bb1b4df6de05d50b146f87a9d4d024b6"
           "9f947066445f2384f014c3564c1612c8"),
    "66": ("Sentences_66Agree.txt", "725adb1de7d33977b0c2f63c33d5ad60"
           "e3c623b916856e18663915dfe47b6981"),
    "75": ("Sentences_75Agree.txt", "a7ca39fb9dc60aed1c323ee635494aed"
           "4acdfc05e0349a9e74367502325303a4"),
    "all": ("Sentences_AllAgree.txt", "5fb370b3005b9a2759f708849a691ad2"
            "e4d2593d4c995c1afde229398a516594"),
}  # fmt: skip
_FPB_SOURCES = {
    level: SourceFile("financial_phrasebank", name, sha256=sha)
    for level, (name, sha) in _FPB_FILES.items()
}
#: Verified sentence counts per agreement level (README).
FPB_DOCUMENTED_ROWS = {"50": 4846, "66": 4217, "75": 3453, "all": 2264}
_SENTIMENTS = ["negative", "neutral", "positive"]


def _parse_phrasebank(path: Path) -> pd.DataFrame:
    # README: Latin-1 with CRLF (AllAgree also bare CR): splitlines() handles every line end.
    text = path.read_bytes().decode("latin-1")
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        sentence, sep, label = line.rpartition("@")  # README: split on the *last* '@'
        label = label.strip().lower()
        if not sep or label not in _SENTIMENTS:
            raise DataFormatError(
                f"{path}, line {lineno}: expected 'sentence@label' with label in "
                f"{_SENTIMENTS}; got {line[-60:]!r}."
            )
        rows.append((sentence.strip(), label))
    if not rows:
        raise DataFormatError(f"{path}: no 'sentence@label' lines found.")
    frame = pd.DataFrame(rows, columns=["sentence", "label"], dtype="str")
    frame["label"] = pd.Categorical(frame["label"], categories=_SENTIMENTS)
    return frame


@register(
    name="financial_phrasebank",
    kind="text",
    description="4,846 English financial-news sentences labelled positive / neutral / "
    "negative (Financial PhraseBank v1.0; option agreement = 50, 66, 75 or all).",
    files=tuple(_FPB_SOURCES.values()),
    source="Financial PhraseBank v1.0 (FinancialPhraseBank-v1.0.zip), Malo et al.",
    citation="Malo, P., Sinha, A., Korhonen, P., Wallenius, J. & Takala, P. (2014). Good debt "
    "or bad debt: Detecting semantic orientations in economic texts. Journal of the "
    "Association for Information Science and Technology 65(4), 782-796.",
    license="CC BY-NC-SA 3.0 (non-commercial)",
    documented_rows=FPB_DOCUMENTED_ROWS["50"],
    options={"agreement": ("50", "66", "75", "all")},
)
def load_financial_phrasebank(files: FileLocator, agreement: str = "50") -> Loaded:
    """Financial PhraseBank sentences at one annotator-agreement level.

    Parameters
    ----------
    files : FileLocator
        Resolves ``financial_phrasebank/Sentences_<level>Agree.txt``.
    agreement : {"50", "66", "75", "all"}
        Minimum share of annotators agreeing on the label (files are nested: ``all`` ⊂
        ``75`` ⊂ ``66`` ⊂ ``50``, so never combine them). ``documented_rows`` is the
        ``"50"`` count; :data:`FPB_DOCUMENTED_ROWS` has the others.

    Returns
    -------
    Loaded
        Columns ``sentence`` (text), ``label`` (category negative / neutral / positive),
        ``is_duplicate`` and ``label_conflict`` (bool). No target: the label has three
        classes and the registry's targets are 0/1.

    Notes
    -----
    README: Latin-1; split on the last ``@``; 50Agree has 8 duplicated sentences, 2 of them
    with conflicting labels -- kept and flagged.
    """
    path = files.path(_FPB_SOURCES[agreement])
    frame = _parse_phrasebank(path)
    frame["is_duplicate"] = _flag_repeats(frame, ["sentence"])
    frame["label_conflict"] = _flag_conflicts(frame, "sentence", "label")
    share = frame["label"].value_counts(normalize=True).round(3).to_dict()
    notes = (
        f"annotator agreement {'100%' if agreement == 'all' else '>= ' + agreement + '%'} "
        f"(README verified rows: {FPB_DOCUMENTED_ROWS[agreement]}).",
        f"label shares: {share}.",
        _flag_summary(frame),
        "license CC BY-NC-SA 3.0: non-commercial use only (README).",
    )
    return Loaded(frame, None, {"text": ("sentence",)}, notes)


# ---------------------------------------------------------------------------------------
# FinFE and FinNSP (CFLEB / BBT-FinCUGE)
# ---------------------------------------------------------------------------------------

_CFLEB = "cn_financial_text_cfleb"
_CFLEB_SHA = {
    "finfe": {
        "train": "213b308d7e648bbc57ab57ee7d868d981939ce881f8027b215659e5ff34515bd",
        "eval": "80cdffaefba9696ecdf1fcb1cccf5052779c33e976195c19502c2130d7b454b6",
    },
    "finnsp": {
        "train": "8e8e84ae7ced4ba5b636a86f9332747d3c93df61c18c1c7f71ddb1d28547460d",
        "eval": "722b4b942fcd5ff2b24a1ab8e0b1e8c1c8905e2dc13a07179293757f4cce92b7",
    },
}
_CFLEB_SOURCES = {
    task: {
        split: SourceFile(_CFLEB, f"{task}/{split}_list.json", sha256=sha)
        for split, sha in shas.items()
    }
    for task, shas in _CFLEB_SHA.items()
}
#: Verified data rows per task (README; FinNSP minus its embedded header row).
CN_FIN_NEWS_DOCUMENTED_ROWS = {"finfe": 16_157 + 2_020, "finnsp": 3_999 + 500}
_BBT_CITATION = (
    "Lu, D., Wu, H., Liang, J., Xu, Y., He, Q., Geng, Y., Han, M., Xin, Y. & Xiao, Y. (2023). "
    "BBT-Fin: Comprehensive Construction of Chinese Financial Domain Pre-trained Language "
    "Model, Corpus and Benchmark. arXiv:2302.09432."
)
_FINFE_LABELS = {"0": "negative", "1": "neutral", "2": "positive"}  # README
_FINNSP_COLUMNS = ["id", "title", "text", "entities", "negative", "key_entities"]


def _read_finfe(path: Path) -> pd.DataFrame:
    frame = _records_frame(_read_json_records(path), ["text", "label_code"], path)
    unknown = set(frame["label_code"].unique()) - set(_FINFE_LABELS)
    if unknown:
        raise DataFormatError(f"{path}: FinFE labels must be 0, 1 or 2; got {sorted(unknown)[:5]}.")
    frame["label"] = pd.Categorical(frame["label_code"].map(_FINFE_LABELS), categories=_SENTIMENTS)
    frame["label_code"] = frame["label_code"].astype("int8")
    return frame[["text", "label", "label_code"]].copy()


def _is_header(record: list[Any], columns: list[str]) -> bool:
    # README: FinNSP train row 1,939 repeats the header, its first field with a BOM.
    return str(record[0]).lstrip("\ufeff") == columns[0] and record[2] == "text"


def _read_finnsp(path: Path) -> pd.DataFrame:
    records = [r for r in _read_json_records(path) if not _is_header(r, _FINNSP_COLUMNS)]
    frame = _records_frame(records, _FINNSP_COLUMNS, path)
    bad = set(frame["negative"].unique()) - {"0", "1"}
    if bad:
        raise DataFormatError(f"{path}: FinNSP 'negative' must be 0 or 1; got {sorted(bad)[:5]}.")
    frame["negative"] = frame["negative"].astype("int8")
    for col in ("title", "entities", "key_entities"):
        frame[col] = frame[col].mask(frame[col] == "")
    return frame


@register(
    name="cn_fin_news",
    kind="text",
    description="Chinese financial text (CFLEB): FinFE stock-forum sentiment (3 classes) or "
    "FinNSP negative news with subject entities (option task = finfe or finnsp).",
    files=(*_CFLEB_SOURCES["finfe"].values(), *_CFLEB_SOURCES["finnsp"].values()),
    source="BBT-FinCUGE / CFLEB benchmark (github.com/ssymmetry/BBT-FinCUGE-Applications); "
    "FinNSP from CCF BDCI 2019",
    citation=_BBT_CITATION,
    license="unknown (no license file; FinNSP texts from a competition dataset)",
    documented_rows=CN_FIN_NEWS_DOCUMENTED_ROWS["finfe"],
    options={"task": ("finfe", "finnsp")},
)
def load_cn_fin_news(files: FileLocator, task: str = "finfe") -> Loaded:
    """FinFE sentiment or FinNSP negative-news records, train and eval stacked.

    Parameters
    ----------
    files : FileLocator
        Resolves ``cn_financial_text_cfleb/<task>/{train,eval}_list.json``.
    task : {"finfe", "finnsp"}
        ``finfe``: sentiment of stock-forum posts. ``finnsp``: whether a news text is
        negative, with its entities and the negative (key) entities. ``documented_rows``
        is the ``finfe`` count; :data:`CN_FIN_NEWS_DOCUMENTED_ROWS` has both.

    Returns
    -------
    Loaded
        ``finfe``: ``text``, ``label`` (category negative / neutral / positive),
        ``label_code`` (0/1/2), ``split`` (train / eval), ``is_duplicate``,
        ``label_conflict``, ``in_train``; no target (three classes).
        ``finnsp``: ``id``, ``title``, ``text``, ``entities`` and ``key_entities``
        (``;``-separated text), ``negative`` (0/1, the target), ``split`` and the same
        flags.

    Notes
    -----
    README quirks: FinFE has 4,511 duplicated train texts, 773 texts with conflicting
    labels and 1,097 eval texts also in train -- flagged, not dropped. FinNSP's embedded
    header row (train row 1,939) is dropped; its ``?`` emoji placeholders are kept.
    """
    target: str | None
    groups: dict[str, tuple[str, ...]]
    if task == "finfe":
        frame = _split_frames(files, _CFLEB_SOURCES["finfe"], _read_finfe)
        label, target, groups = "label", None, {"text": ("text",)}
    else:
        frame = _split_frames(files, _CFLEB_SOURCES["finnsp"], _read_finnsp)
        label, target = "negative", "negative"
        groups = {"text": ("title", "text"), "entities": ("entities",)}
    frame["is_duplicate"] = _flag_repeats(frame, ["text"])
    frame["label_conflict"] = _flag_conflicts(frame, "text", label)
    frame["in_train"] = _flag_in_train(frame, "text")
    notes = [
        f"task {task}; rows per split: {frame['split'].value_counts().to_dict()} "
        f"(README: {CN_FIN_NEWS_DOCUMENTED_ROWS[task]} in all).",
        _flag_summary(frame),
    ]
    if task == "finnsp":
        notes.append("embedded header row of train_list.json dropped (README).")
    return Loaded(frame, target, groups, tuple(notes))


# ---------------------------------------------------------------------------------------
# FinESE: risk-event type and subject entity
# ---------------------------------------------------------------------------------------

_FINESE = "cn_financial_event_subject_finese"
_FINESE_SOURCES = {
    "train": SourceFile(
        _FINESE,
        "train_list.json",
        sha256="cfe6611549181075262e59acefcc1895b6aac17d4ae6652ec4da54b7fdd8dd70",
    ),
    "eval": SourceFile(
        _FINESE,
        "eval_list.json",
        sha256="772520e4a92634fcf6f802126c221d2c6e2a4f053c3aa6f63bfdb804ff90b031",
    ),
}
_NO_EVENT = "其他"  # README: "其他" = no risk event
# README: the missing entity is the string "NaN"; one train row spells it "NAN".
_MISSING_ENTITY = {"NaN", "NAN"}


def _read_finese(path: Path) -> pd.DataFrame:
    columns = ["id", "text", "event_type", "entity"]
    frame = _records_frame(_read_json_records(path), columns, path)
    no_event = frame["event_type"] == _NO_EVENT
    frame["entity"] = frame["entity"].mask(no_event & frame["entity"].isin(_MISSING_ENTITY))
    return frame


@register(
    name="cn_risk_events",
    kind="text",
    description="16,033 Chinese financial news texts with risk-event type (21 types + 其他) "
    "and subject entity (FinESE, BBT-FinCUGE).",
    files=tuple(_FINESE_SOURCES.values()),
    source="BBT-FinCUGE FinESE task (github.com/ssymmetry/BBT-FinCUGE-Applications)",
    citation=_BBT_CITATION,
    license="unknown (no license file; texts are news excerpts)",
    documented_rows=14_252 + 1_781,
)
def load_cn_risk_events(files: FileLocator) -> Loaded:
    """FinESE news texts with event type, subject entity and a 0/1 risk-event target.

    Parameters
    ----------
    files : FileLocator
        Resolves ``cn_financial_event_subject_finese/{train,eval}_list.json``.

    Returns
    -------
    Loaded
        Columns ``id`` (text), ``text``, ``event_type`` (category), ``entity`` (the
        subject; missing when there is no event), ``split`` (train / eval),
        ``is_risk_event`` (int8, 1 unless ``event_type`` is ``其他``; the target),
        ``is_duplicate`` (same text, type and entity earlier in the split) and
        ``in_train``.

    Raises
    ------
    SchemaError
        If an event row has no entity or a ``其他`` row has one.

    Notes
    -----
    README: multi-event texts are split into one row per event (kept: group by ``text``
    or ``id`` before splitting); 167 train / 2 eval exact duplicate rows and 244 eval
    texts also in train are flagged, not dropped; ``"NaN"`` entities become missing.
    """
    frame = _split_frames(files, _FINESE_SOURCES, _read_finese)
    no_event = frame["event_type"] == _NO_EVENT
    if not no_event.eq(frame["entity"].isna()).all():
        odd = frame.loc[no_event.ne(frame["entity"].isna()), ["id", "event_type", "entity"]]
        raise SchemaError(
            f"{_FINESE}: entity must be 'NaN' exactly when event_type is {_NO_EVENT!r}; "
            f"{len(odd)} rows break this, e.g. {odd.iloc[0].to_dict()}."
        )
    frame["event_type"] = frame["event_type"].astype("category")
    frame["is_risk_event"] = (~no_event).astype("int8")
    frame["is_duplicate"] = _flag_repeats(frame, ["text", "event_type", "entity"])
    frame["in_train"] = _flag_in_train(frame, "text")
    frame = frame[
        ["id", "text", "event_type", "entity", "split", "is_risk_event", "is_duplicate", "in_train"]
    ]
    notes = (
        f"rows per split: {frame['split'].value_counts().to_dict()}; risk-event share "
        f"{frame['is_risk_event'].mean():.3f} (README: train 82.5 %, eval 82.2 %).",
        "multi-event texts have one row per event/entity (README): group by text or id.",
        _flag_summary(frame),
    )
    return Loaded(frame, "is_risk_event", {"text": ("text",)}, notes)

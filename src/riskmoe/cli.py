"""The ``riskmoe`` command line: parse, call the workflow, print. No logic lives here."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from riskmoe import workflow
from riskmoe.config import Settings
from riskmoe.data import list_datasets, load_dataset
from riskmoe.exceptions import RiskMoEError
from riskmoe.workflow import ask as ask_job
from riskmoe.workflow import models as model_jobs
from riskmoe.workflow import names as name_jobs
from riskmoe.workflow import risk_jobs

app = typer.Typer(
    help="riskmoe: financial risk management built around a Mixture-of-Experts model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="List, inspect and ingest datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
risk_app = typer.Typer(
    help="Measure and grade risk: VaR, ES, backtests, IRB, grades.", no_args_is_help=True
)
app.add_typer(risk_app, name="risk")
benchmark_app = typer.Typer(help="Benchmarks on real data.", no_args_is_help=True)
app.add_typer(benchmark_app, name="benchmark")

out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", help="Dataset option KEY=VALUE (repeatable), e.g. year=5."),
]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def handles_errors(fn: F) -> F:
    """Turn riskmoe's own errors into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RiskMoEError as exc:
            _fail(str(exc))
        except ValidationError as exc:
            _fail(f"invalid setting: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename}")
        except ValueError as exc:  # argument validation (e.g. test_size) raises ValueError
            _fail(str(exc))
        except typer.Exit:
            raise
        except Exception as exc:
            if os.environ.get("RISKMOE_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {exc}. This is a bug in "
                "riskmoe; rerun with RISKMOE_DEBUG=1 for the traceback and report it.",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=1) from None
        return None

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    return Settings()


def _parse_options(items: list[str] | None) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            _fail(f"--option takes KEY=VALUE; got {item!r}.")
        key, value = item.split("=", 1)
        parsed: Any = value
        try:
            parsed = int(value)
        except ValueError:
            pass
        opts[key.strip()] = parsed
    return opts


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------


@data_app.command("list")
@handles_errors
def data_list(
    as_json: JsonOpt = False,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Load each dataset and count its rows.")
    ] = True,
) -> None:
    """List every registered dataset, verifying its row count by loading it."""
    settings = _settings()
    infos = list_datasets()
    records = []
    with _progress() as progress:
        task = progress.add_task("checking datasets", total=len(infos) if verify else 0)
        for info in infos:
            rec = info.to_dict()
            if verify:
                progress.update(task, description=f"loading {info.name}")
                try:
                    ds = load_dataset(info.name, settings=settings)
                    rec.update(
                        rows=ds.meta.n_rows,
                        columns=ds.meta.n_columns,
                        positive_rate=ds.meta.positive_rate,
                        origin=ds.meta.origin,
                        rows_match_documented=(
                            None
                            if info.documented_rows is None
                            else ds.meta.n_rows == info.documented_rows
                        ),
                        error=None,
                    )
                except RiskMoEError as exc:
                    rec.update(rows=None, error=str(exc), rows_match_documented=False)
                progress.advance(task)
            records.append(rec)
    if as_json:
        _print_json(records)
        return
    table = Table(title="riskmoe datasets")
    for col in ("name", "kind", "rows", "documented", "ok", "positive rate", "from", "license"):
        table.add_column(
            col, justify="right" if col in ("rows", "documented", "positive rate") else "left"
        )
    for r in records:
        ok = r.get("rows_match_documented")
        table.add_row(
            r["name"],
            r["kind"],
            "" if r.get("rows") is None else f"{r['rows']:,}",
            "" if r["documented_rows"] is None else f"{r['documented_rows']:,}",
            {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[ok] if verify else "",
            "" if r.get("positive_rate") is None else f"{r['positive_rate']:.2%}",
            r.get("origin", ""),
            r["license"],
        )
    out.print(table)
    failed = [r["name"] for r in records if r.get("error")]
    if failed:
        err.print(f"[yellow]could not load:[/] {', '.join(failed)}")


@data_app.command("show")
@handles_errors
def data_show(
    name: Annotated[str, typer.Argument(help="Dataset name (see `riskmoe data list`).")],
    option: OptionOpt = None,
    as_json: JsonOpt = False,
    rows: Annotated[int, typer.Option(help="Rows of the head to print.")] = 5,
) -> None:
    """Show a dataset's provenance, feature groups and first rows."""
    ds = load_dataset(name, settings=_settings(), **_parse_options(option))
    if as_json:
        _print_json(
            {
                "name": ds.name,
                "target": ds.target,
                "feature_groups": {k: list(v) for k, v in ds.feature_groups.items()},
                "meta": ds.meta.to_dict(),
                "dtypes": {c: str(t) for c, t in ds.frame.dtypes.items()},
                "head": json.loads(
                    ds.frame.head(rows).to_json(orient="records", date_format="iso")
                ),
            }
        )
        return
    m = ds.meta
    out.print(
        f"[bold]{ds.name}[/]  {m.n_rows:,} rows x {m.n_columns} columns, read from {m.origin}"
    )
    out.print(f"source: {m.source}\nlicense: {m.license}\ncitation: {m.citation}")
    if ds.target:
        out.print(f"target: {ds.target} (positive rate {m.positive_rate:.2%})")
    for note in m.notes:
        out.print(f"[yellow]note:[/] {note}")
    groups = Table(title="feature groups")
    groups.add_column("group")
    groups.add_column("columns")
    for g, cols in ds.feature_groups.items():
        groups.add_row(g, ", ".join(cols))
    out.print(groups)
    out.print(ds.frame.head(rows).to_string(max_cols=12))


@data_app.command("ingest")
@handles_errors
def data_ingest(
    source: Annotated[
        str, typer.Argument(help="A dataset name or a file path (CSV, Parquet, ARFF, XLSX, JSON).")
    ],
    name: Annotated[str | None, typer.Option(help="Table name in the store.")] = None,
    target: Annotated[str | None, typer.Option(help="Require this 0/1 target column.")] = None,
    option: OptionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest a dataset or a file into the store (one transaction, versioned)."""
    settings = _settings()
    with err.status(f"ingesting {source}"):
        version = workflow.ingest(
            source, settings, name=name, target=target, **_parse_options(option)
        )
    if as_json:
        _print_json(version.to_dict())
        return
    verb = "stored" if version.created else "unchanged (same content)"
    out.print(
        f"{version.name} v{version.version}: {verb}, {version.rows:,} rows, "
        f"{len(version.columns)} columns, sha256 {version.sha256[:12]} "
        f"-> {settings.resolved_store_path}"
    )


# ---------------------------------------------------------------------------------------
# risk
# ---------------------------------------------------------------------------------------

SourceArg = Annotated[
    str,
    typer.Argument(
        help="Returns: sp500, sp500:TICKER, csi300, cn:CODE (e.g. cn:600519.SH) or a file path."
    ),
]
LevelOpt = Annotated[float, typer.Option(help="Confidence level in (0, 1).")]
MethodOpt = Annotated[
    str, typer.Option(help="historical, normal, student_t, ewma, garch_t, fhs, monte_carlo.")
]
ColumnOpt = Annotated[str | None, typer.Option(help="Returns column when SOURCE is a file.")]


def _print_market(result: risk_jobs.MarketRiskResult, as_json: bool, what: str) -> None:
    if as_json:
        _print_json(result.to_dict())
        return
    e = result.estimate
    shown_vol = e.volatility not in ("sample", "none")
    label = e.method + (f" ({e.volatility} volatility)" if shown_vol else "")
    out.print(
        f"{result.source}, {result.first_date} to {result.last_date} ({e.n_observations:,} days), "
        f"{label}, {e.horizon}-day {e.level:.1%}:"
    )
    if what in ("var", "both"):
        out.print(f"  VaR = {e.var:.4%} of value (a loss)")
    out.print(f"  ES  = {e.es:.4%} of value (a loss)")


def _market_command(
    source: str,
    level: float,
    method: str,
    window: int,
    horizon: int,
    horizon_method: str,
    column: str | None,
    as_json: bool,
    what: str,
) -> None:
    """The shared body of ``risk var`` and ``risk es`` (they differ in default level)."""
    result = risk_jobs.market_risk(
        source,
        _settings(),
        level=level,
        method=method,
        window=window or None,
        horizon=horizon,
        horizon_method=horizon_method,
        column=column,
    )
    _print_market(result, as_json, what)


@risk_app.command("var")
@handles_errors
def risk_var(
    source: SourceArg,
    level: LevelOpt = 0.99,
    method: MethodOpt = "historical",
    window: Annotated[int, typer.Option(help="Days of history (0 = all).")] = 250,
    horizon: Annotated[int, typer.Option(help="Horizon in days.")] = 1,
    horizon_method: Annotated[str, typer.Option(help="sqrt or simulation.")] = "sqrt",
    column: ColumnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Value at risk (and ES) of a return series as of its last day; losses are positive."""
    _market_command(source, level, method, window, horizon, horizon_method, column, as_json, "both")


@risk_app.command("es")
@handles_errors
def risk_es(
    source: SourceArg,
    level: LevelOpt = 0.975,
    method: MethodOpt = "historical",
    window: Annotated[int, typer.Option(help="Days of history (0 = all).")] = 250,
    horizon: Annotated[int, typer.Option(help="Horizon in days.")] = 1,
    horizon_method: Annotated[str, typer.Option(help="sqrt or simulation.")] = "sqrt",
    column: ColumnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Expected shortfall (default 97.5%, the FRTB level) of a return series."""
    _market_command(source, level, method, window, horizon, horizon_method, column, as_json, "es")


@risk_app.command("backtest")
@handles_errors
def risk_backtest(
    source: SourceArg,
    level: LevelOpt = 0.99,
    method: MethodOpt = "historical",
    window: Annotated[int, typer.Option(help="Rolling window in days.")] = 250,
    year: Annotated[
        int | None, typer.Option(help="Traffic-light year (default: last 250 days).")
    ] = None,
    column: ColumnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rolling out-of-sample VaR/ES, backtested: Kupiec, Christoffersen, traffic light, Z2."""
    with err.status(f"rolling {method} forecasts on {source}"):
        bt = risk_jobs.market_backtest(
            source, _settings(), level=level, method=method, window=window, year=year, column=column
        )
    if as_json:
        _print_json(bt.to_dict())
        return
    r = bt.result
    tl = r.traffic_light
    colour = {"green": "green", "yellow": "yellow", "red": "red"}[tl.zone]
    out.print(
        f"{source}, {method}, {window}-day window, {level:.1%}: {r.exceptions} exceptions in "
        f"{r.observations:,} days ({r.exception_rate:.2%}, expected {1 - level:.2%})"
    )
    out.print(
        f"  Kupiec LR = {r.kupiec.statistic:.3f} (p = {r.kupiec.p_value:.4f}); "
        f"Christoffersen LR_cc = {r.christoffersen.lr_cc:.3f} "
        f"(p = {r.christoffersen.p_value_cc:.4f})"
    )
    out.print(
        f"  traffic light ({r.traffic_light_period}): [{colour}]{tl.zone}[/], {tl.exceptions} "
        f"exceptions, cumulative probability {tl.cumulative_probability:.2%}, "
        f"plus factor {tl.plus_factor:.2f}"
    )
    table = Table(title="exceptions per year")
    for col in ("year", "days", "exceptions"):
        table.add_column(col, justify="right")
    for y in r.exceptions_per_year:
        table.add_row(str(y.year), str(y.observations), str(y.exceptions))
    out.print(table)


@risk_app.command("irb")
@handles_errors
def risk_irb(
    pd_: Annotated[float, typer.Option("--pd", help="Probability of default in [0, 1].")],
    lgd: Annotated[float, typer.Option(help="Loss given default.")] = 0.45,
    maturity: Annotated[float, typer.Option(help="Effective maturity in years.")] = 2.5,
    asset_class: Annotated[
        str, typer.Option(help="corporate, mortgage, qrre, other_retail.")
    ] = "corporate",
    sales: Annotated[
        float | None, typer.Option(help="Annual sales in EUR m (SME adjustment).")
    ] = None,
    scaling: Annotated[float, typer.Option(help="IRB scaling factor (1.06 under Basel II).")] = 1.0,
    ead: Annotated[float, typer.Option(help="Exposure at default.")] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Basel IRB risk weight, RWA and capital for one exposure."""
    res = risk_jobs.irb_summary(
        pd_,
        lgd=lgd,
        maturity=maturity,
        asset_class=asset_class,
        sales_eur_m=sales,
        scaling=scaling,
        ead=ead,
    )
    if as_json:
        _print_json(res)
        return
    out.print(
        f"{asset_class}, PD {pd_:.4%}, LGD {lgd:.0%}, M {maturity:g}: "
        f"K = {res['capital_requirement_k']:.4%}, risk weight = {res['risk_weight']:.2%}, "
        f"RWA = {res['rwa']:,.2f}, capital = {res['capital']:,.2f}"
    )


@risk_app.command("grade")
@handles_errors
def risk_grade(
    pds: Annotated[
        list[float] | None, typer.Option("--pd", help="PD(s) to grade (repeatable).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            help="Scores to re-grade against the stored history: "
            "entity, as_of, pd[, model_version]."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Grade PDs on the master scale, or re-grade scored entities and keep the history."""
    if (pds is None) == (file is None):
        _fail("give either --pd (one or more) or --file, not both and not neither.")
    if pds is not None:
        rows = risk_jobs.grade_pds(pds)
        if as_json:
            _print_json(rows)
            return
        table = Table(title="master scale")
        for col in ("PD", "grade", "tier"):
            table.add_column(col, justify="right")
        for r in rows:
            table.add_row(f"{r['pd']:.4%}", str(r["grade"]), r["tier"])
        out.print(table)
        return
    assert file is not None
    result = risk_jobs.grade_entities(file, _settings())
    if as_json:
        _print_json(result.to_dict())
        return
    out.print(f"graded {len(result.graded):,} rows; {len(result.changes):,} grade changes")
    for _, c in result.changes.iterrows():
        out.print(
            f"  {c['entity']}: {c['old_grade']} -> {c['new_grade']} ({c['direction']}) on "
            f"{str(c['as_of'])[:10]}"
        )


# ---------------------------------------------------------------------------------------
# clean, run
# ---------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------------


@app.command("train")
@handles_errors
def train(
    dataset: Annotated[str, typer.Option(help="Dataset with a binary target.")],
    out_dir: Annotated[Path, typer.Option("--out", help="New folder for the model.")],
    option: OptionOpt = None,
    test_size: Annotated[float, typer.Option(help="Held-out share for the metrics.")] = 0.2,
    as_json: JsonOpt = False,
) -> None:
    """Train the MoE model, evaluate it on a held-out split, save and register it."""
    with err.status(f"training the MoE on {dataset}"):
        res = model_jobs.train(
            dataset, out_dir, _settings(), test_size=test_size, **_parse_options(option)
        )
    if as_json:
        _print_json(res.to_dict())
        return
    m = res.metrics
    out.print(
        f"{res.model_id}: {res.n_train:,} training rows; held-out {res.n_test:,} rows: "
        f"AUC {m.auc:.4f}, KS {m.ks:.4f}, Brier {m.brier:.4f}, ECE {m.ece:.4f}"
    )
    usage = Table(title="expert utilisation (share of training rows routed)")
    usage.add_column("expert")
    usage.add_column("share", justify="right")
    for name, share in res.expert_usage.items():
        usage.add_row(name, f"{share:.1%}")
    out.print(usage)
    v = res.registry_version
    out.print(f"saved to {res.path}; registered in {v.name} v{v.version}")


@app.command("score")
@handles_errors
def score(
    model: Annotated[Path, typer.Option(help="A model folder from `riskmoe train`.")],
    input_path: Annotated[Path, typer.Option("--input", help="CSV / Parquet / XLSX to score.")],
    out_path: Annotated[Path, typer.Option("--out", help="Scores file (.csv or .parquet).")],
    explain: Annotated[bool, typer.Option(help="Add the top three reason codes per row.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Score a file: PD, master-scale grade and tier per row (and reason codes)."""
    with err.status(f"scoring {input_path}"):
        res = model_jobs.score_file(model, input_path, out_path, explain=explain)
    if as_json:
        _print_json(res.to_dict())
        return
    tiers = ", ".join(f"{k} {v:,}" for k, v in sorted(res.tier_counts.items()))
    out.print(f"scored {res.rows:,} rows (mean PD {res.mean_pd:.2%}; {tiers}) -> {res.output}")


# ---------------------------------------------------------------------------------------
# names and questions
# ---------------------------------------------------------------------------------------


@app.command("resolve")
@handles_errors
def resolve(
    queries: Annotated[list[str] | None, typer.Argument(help="Names, codes or questions.")] = None,
    file: Annotated[Path | None, typer.Option(help="A text file with one query per line.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find the company behind each query, or abstain with candidates."""
    items = list(queries or [])
    if file is not None:
        if not file.is_file():
            _fail(f"file not found: {file}.")
        lines = file.read_text(encoding="utf-8").splitlines()
        items += [line.strip() for line in lines if line.strip()]
    if not items:
        _fail("give one or more queries, or --file.")
    with err.status("loading the entity base"):
        resolver = name_jobs.resolver(_settings())
    for q in items:
        try:
            r = resolver.resolve(q)
        except RiskMoEError as exc:
            if as_json:
                sys.stdout.write(json.dumps({"query": q, "error": str(exc)}, ensure_ascii=False))
                sys.stdout.write("\n")
            else:
                err.print(f"[red]{q!r}:[/] {exc}", highlight=False)
            continue
        if as_json:
            d = r.to_dict()
            line = {k: d[k] for k in ("query", "code", "name", "score", "abstained", "candidates")}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        elif r.abstained:
            cands = ", ".join(f"{c.code} {c.name} ({c.score:.2f})" for c in r.candidates[:5])
            out.print(f"{q} -> [yellow]not sure[/]" + (f"; candidates: {cands}" if cands else ""))
        else:
            out.print(f"{q} -> [bold]{r.code}[/] {r.name} (score {r.score:.2f}, {r.method})")


@app.command("ask")
@handles_errors
def ask(
    question: Annotated[str, typer.Argument(help="A risk question, e.g. 茅台的流动性风险怎么样？")],
    as_json: JsonOpt = False,
) -> None:
    """Answer a risk question about a company with the stored numbers and their sources."""
    with err.status("resolving and looking up"):
        answer = ask_job.ask(question, _settings())
    if as_json:
        _print_json(answer.to_dict())
        return
    q = answer.question
    if q.entity.abstained or q.entity.code is None:
        cands = ", ".join(f"{c.code} {c.name}" for c in q.entity.candidates[:5])
        out.print("Which company do you mean?" + (f" Candidates: {cands}" if cands else ""))
        return
    period = q.period.text or "latest available"
    out.print(f"[bold]{q.entity.code} {q.entity.name}[/] — {q.risk_type} risk, period: {period}")
    if answer.facts:
        table = Table()
        for col in ("risk", "measure", "value", "period", "source", "note"):
            table.add_column(col, justify="right" if col == "value" else "left")
        for f in answer.facts:
            v = f.value
            shown = f"{v:,.4f}" if isinstance(v, float) else str(v)
            table.add_row(f.risk_type, f.label, shown, f.period, f.source, f.note)
        out.print(table)
    for g in answer.gaps:
        how = f" — {g.command}" if g.command else ""
        out.print(f"[yellow]missing ({g.risk_type}):[/] {g.missing}{how}")


@benchmark_app.command("credit")
@handles_errors
def benchmark_credit(
    datasets: Annotated[str | None, typer.Option(help="Comma-separated datasets.")] = None,
    models: Annotated[str | None, typer.Option(help="Comma-separated models.")] = None,
    quick: Annotated[
        bool, typer.Option(help="2 folds on at most 5,000 rows (a smoke run).")
    ] = False,
    out_dir: Annotated[Path, typer.Option("--out", help="Results folder.")] = Path(
        "benchmarks/results"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Cross-validated credit benchmark: MoE against LightGBM, random forest, logistic, MLP."""
    from riskmoe.evaluation import run_credit_benchmark

    def split(value: str | None) -> list[str] | None:
        return [v.strip() for v in value.split(",") if v.strip()] if value else None

    with err.status("running the credit benchmark (see --quick for a smoke run)"):
        result = run_credit_benchmark(
            split(datasets),
            split(models),
            quick,
            out_dir,
            _settings(),
            command="riskmoe benchmark credit",
        )
    if as_json:
        _print_json(result.to_dict())
        return
    out.print(f"{len(result.records)} fold records in {result.seconds / 60:.1f} min")
    for f in result.files:
        out.print(f"  wrote {f}")


@app.command("clean")
@handles_errors
def clean(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    report: Annotated[
        Path | None, typer.Option(help="Write the cleaning report (.html or .json).")
    ] = None,
    option: OptionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the cleaning pipeline on a dataset and store the cleaned table."""
    if report is not None and report.suffix.lower() not in (".html", ".json"):
        _fail(f"--report must end in .html or .json; got {report.name!r}.")
    with err.status(f"cleaning {name}"):
        result = workflow.clean_dataset(name, _settings(), **_parse_options(option))
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        text = (
            json.dumps(result.report.to_dict(), ensure_ascii=False, indent=2)
            if report.suffix.lower() == ".json"
            else result.report.to_html()
        )
        report.write_text(text, encoding="utf-8")
    if as_json:
        _print_json(result.to_dict())
        return
    table = Table(title=f"cleaning {name}")
    for col in ("step", "rows before", "rows after", "cells changed"):
        table.add_column(col)
    for s in result.report.to_dict()["steps"]:
        table.add_row(
            s["step"], f"{s['rows_before']:,}", f"{s['rows_after']:,}", f"{s['cells_changed']:,}"
        )
    out.print(table)
    v = result.version
    out.print(
        f"stored {v.name} v{v.version} ({v.rows:,} rows)"
        + (f"; report: {report}" if report else "")
    )


@app.command("run")
@handles_errors
def run(
    dataset: Annotated[str, typer.Option(help="Dataset with a binary target.")] = "german_credit",
    report: Annotated[
        Path | None, typer.Option(help="Report path (default: $RISKMOE_HOME/report.html).")
    ] = None,
    option: OptionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The end-to-end job: ingest, clean, fit, evaluate, write the HTML report."""
    settings = _settings()
    config = workflow.RunConfig(
        dataset=dataset, dataset_options=_parse_options(option), report_path=report
    )
    with _progress() as progress:
        task = progress.add_task("run", total=len(workflow.default_stages()))

        def on_stage(i: int, total: int, stage: workflow.Stage) -> None:
            progress.update(task, completed=i, total=total, description=stage.description)

        result = workflow.run(settings, config, on_stage=on_stage)
        progress.update(task, completed=progress.tasks[0].total, description="done")
    if as_json:
        _print_json(result.to_dict())
        return
    table = Table(title=f"{result.dataset}: held-out test split ({result.n_test:,} rows)")
    for col in ("model", "AUC", "Gini", "KS"):
        table.add_column(col, justify="right")
    for name, m in result.metrics.items():
        table.add_row(name, f"{m.auc:.4f}", f"{m.gini:.4f}", f"{m.ks:.4f}")
    out.print(table)
    out.print(f"report: {result.report_path}")


def main() -> None:  # pragma: no cover - console entry
    """Console entry point."""
    app()

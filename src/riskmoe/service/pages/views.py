"""Dashboard routes: log in with a key, then portfolio, entity, market, monitoring, models.

Pages read through :mod:`riskmoe.workflow` jobs and draw with :mod:`riskmoe.reporting`'s
section model; they compute no risk number themselves.
"""

from __future__ import annotations

from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from plotly.offline import get_plotlyjs

from riskmoe.exceptions import AuthError, RiskMoEError
from riskmoe.reporting import Figure, Section, Table, Trace
from riskmoe.service.auth import SESSION_COOKIE, get_state, session_key
from riskmoe.service.pages.render import render_page
from riskmoe.service.state import ServiceState
from riskmoe.workflow import service_jobs as jobs
from riskmoe.workflow.keys import verify_key
from riskmoe.workflow.models import registered_models
from riskmoe.workflow.returns import load_returns
from riskmoe.workflow.risk_jobs import market_backtest, rolling_forecasts

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_STATIC = Path(__file__).parent / "static"
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline' "
    "'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@cache
def _plotly_js() -> bytes:
    return get_plotlyjs().encode()


@router.get("/static/plotly.js")
def plotly_js() -> Response:
    return Response(
        _plotly_js(),
        media_type="application/javascript",
        headers={"Cache-Control": "max-age=86400"},
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)


@router.get("/static/{name}")
def static(name: str) -> Response:
    files = {"dashboard.css": "text/css", "alerts.js": "application/javascript"}
    if name not in files:
        return Response(status_code=404)
    return Response((_STATIC / name).read_bytes(), media_type=files[name])


def _page(template: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(render_page(template, **context), headers=_HEADERS)


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _user(request: Request) -> tuple[ServiceState, str | None]:
    state = get_state(request)
    key = session_key(request, state)
    return state, None if key is None else key.key_id


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _page("login.html.j2", title="Log in 登录", active="", user=None, error="")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    state = get_state(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("key") or [""])[0]
    try:
        key = verify_key(state.keys(refresh=True), token)
    except AuthError as exc:
        return HTMLResponse(
            render_page("login.html.j2", title="Log in 登录", active="", user=None, error=str(exc)),
            status_code=401,
            headers=_HEADERS,
        )
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        state.sessions.open(key.key_id),
        httponly=True,
        samesite="strict",
        max_age=int(state.config.session_hours * 3600),
    )
    return response


@router.get("/logout")
def logout(request: Request) -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- portfolio ------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    state, user = _user(request)
    if user is None:
        return _login_redirect(request)
    sections: list[Section] = []
    messages: list[str] = []
    tables = state.with_store(jobs.portfolio_tables)
    for name in tables:
        by = state.with_store(partial(jobs.portfolio_by_grade, table=name))
        grades = [str(g) for g in by["grade"]]
        cols = [c for c in ("n", "ead", "el", "rwa", "capital") if c in by.columns]
        tiers = by.groupby("tier")["n"].sum()
        sections.append(
            Section(
                name,
                f"{name}: grades, EL and capital 评级、预期损失与资本",
                f"{int(by['n'].sum()):,} exposures graded by riskmoe run.",
                tables=(
                    Table(
                        "By grade 按评级",
                        ["grade 评级", "tier 层级", *cols],
                        [
                            [g, t, *(r[c] for c in cols)]
                            for g, t, (_, r) in zip(grades, by["tier"], by.iterrows(), strict=True)
                        ],
                    ),
                    Table(
                        "Tier counts 风险层级",
                        ["tier 层级", "n"],
                        [[str(k), int(v)] for k, v in tiers.items()],
                    ),
                ),
                figures=(
                    Figure(
                        "Grade distribution 评级分布",
                        [Trace("exposures", grades, by["n"].tolist())],
                        "grade",
                        "exposures",
                        kind="bar",
                    ),
                    Figure(
                        "EL and capital by grade 各评级预期损失与资本",
                        [
                            Trace(c, grades, by[c].tolist())
                            for c in ("el", "capital")
                            if c in by.columns
                        ],
                        "grade",
                        "amount",
                        kind="bar",
                    ),
                ),
            )
        )
    latest = state.with_store(jobs.latest_grades)
    if len(latest):
        counts = latest["grade"].astype(str).value_counts().sort_index()
        sections.append(
            Section(
                "entities",
                "Graded entities 主体评级",
                f"{len(latest):,} entities in the grade history.",
                figures=(
                    Figure(
                        "Latest grade per entity 最新评级分布",
                        [Trace("entities", counts.index.tolist(), counts.tolist())],
                        "grade",
                        "entities",
                        kind="bar",
                    ),
                ),
            )
        )
    if not sections:
        messages.append(
            "Nothing graded yet 暂无评级: run `riskmoe run` (portfolio) or "
            "`riskmoe risk grade --file scores.csv` (entities)."
        )
    return _page(
        "page.html.j2",
        title="Portfolio overview 组合概览",
        active="/",
        user=user,
        sections=sections,
        messages=messages,
    )


# -- entity ---------------------------------------------------------------------------------


@router.get("/entity", response_class=HTMLResponse)
def entity_search(request: Request, q: str = "") -> Response:
    state, user = _user(request)
    if user is None:
        return _login_redirect(request)
    error, candidates = "", []
    if q.strip():
        try:
            res = state.resolver().resolve(q[:500])
        except RiskMoEError as exc:
            res, error = None, str(exc)
        if res is not None and not res.abstained and res.code:
            return RedirectResponse(f"/entity/{quote(res.code)}", status_code=303)
        if res is not None:
            candidates = [c.to_dict() for c in res.candidates]
            error = f"“{q}” could not be resolved with confidence 无法确定公司。"
    return _page(
        "entity.html.j2",
        title="Entity 主体",
        active="/entity",
        user=user,
        query=q,
        error=error,
        candidates=candidates,
        code="",
        name="",
        messages=[],
    )


@router.get("/entity/{code}", response_class=HTMLResponse)
def entity_page(request: Request, code: str) -> Response:
    state, user = _user(request)
    if user is None:
        return _login_redirect(request)
    resolver = state.resolver()
    if code not in resolver.base.codes:
        return _page(
            "entity.html.j2",
            title="Entity 主体",
            active="/entity",
            user=user,
            query=code,
            error=f"unknown entity code {code[:40]!r} 未知代码",
            candidates=[],
            code="",
            name="",
            messages=[],
        )
    name = resolver.base.name_of(code)
    history, changes = state.with_store(lambda s: jobs.entity_history(s, code))
    sections: list[Section] = []
    messages: list[str] = []
    if len(history):
        dates = [str(pd.Timestamp(d).date()) for d in history["as_of"]]
        sections.append(
            Section(
                "history",
                "PD and grade history 违约概率与评级历史",
                figures=(
                    Figure(
                        "PD over time 违约概率",
                        [Trace("PD", dates, history["pd"].astype(float).tolist())],
                        "as of",
                        "PD",
                    ),
                    Figure(
                        "Grade over time 评级",
                        [Trace("grade", dates, history["grade"].astype(str).tolist())],
                        "as of",
                        "grade (1 best … 10, D)",
                    ),
                ),
                tables=(
                    Table(
                        "History 历史",
                        ["as of", "PD", "grade 评级", "model"],
                        [
                            [d, float(p), str(g), str(m)]
                            for d, p, g, m in zip(
                                dates,
                                history["pd"],
                                history["grade"],
                                history.get("model_version", pd.Series([""] * len(history))),
                                strict=True,
                            )
                        ],
                    ),
                ),
            )
        )
    else:
        messages.append(
            "No grade history for this entity yet 暂无评级历史 "
            "(`riskmoe risk grade --file scores.csv`)."
        )
    if len(changes):
        sections.append(
            Section(
                "changes",
                "Grade changes 评级变动",
                tables=(
                    Table(
                        "Upgrades and downgrades 升降级",
                        list(map(str, changes.columns)),
                        changes.astype(str).values.tolist(),
                    ),
                ),
            )
        )
    sections.extend(_entity_explanation(state, code, messages))
    return _page(
        "entity.html.j2",
        title=f"{name} ({code})",
        active="/entity",
        user=user,
        query="",
        error="",
        candidates=[],
        code=code,
        name=name,
        sections=sections,
        messages=messages,
    )


def _entity_explanation(state: ServiceState, code: str, messages: list[str]) -> list[Section]:
    """Expert weights and reason codes for the entity's newest features, when the serving
    model was trained on a dataset that holds rows for it (``cn_distress``)."""
    try:
        loaded = state.model()
    except LookupError:
        messages.append("No model registered 未注册模型: expert weights need one.")
        return []
    rows = state.with_store(lambda s: jobs.stored_table(s, loaded.dataset))
    if rows is None or "code" not in rows.columns:
        messages.append(
            f"The serving model ({loaded.model_id}) scores {loaded.dataset} records, which "
            "are not per company; expert weights and reason codes are shown per record in "
            "/v1/explain. 该模型不按公司评分。"
        )
        return []
    mine = rows[rows["code"] == code]
    if mine.empty:
        messages.append(f"No {loaded.dataset} features stored for {code} 无该公司特征数据.")
        return []
    latest = mine.tail(1)
    exp = loaded.model.explain(latest[list(loaded.features)])
    weights = exp.gate_weights[0]
    return [
        Section(
            "experts",
            "Expert weights and reason codes 专家权重与原因码",
            f"Model {loaded.model_id}, latest stored record of {code}.",
            tables=(Table("Reason codes 原因码", ["reason"], [[r] for r in exp.reason_codes[0]]),),
            figures=(
                Figure(
                    "Router weights 路由权重",
                    [Trace("weight", list(exp.expert_names), [float(w) for w in weights])],
                    "expert",
                    "gate weight",
                    kind="bar",
                ),
            ),
        )
    ]


# -- market risk ----------------------------------------------------------------------------


def _market_sections(state: ServiceState) -> list[Section]:
    if "market" in state.cache:
        return list(state.cache["market"])
    settings = state.settings
    returns = load_returns("sp500", settings)
    fc = rolling_forecasts(
        returns, level=0.99, method="historical", window=250, random_state=settings.random_state
    ).tail(750)
    r = returns.loc[fc.index]
    bt = market_backtest("sp500", settings, level=0.99, method="historical", window=250)
    dates = [str(pd.Timestamp(d).date()) for d in fc.index]
    res = bt.result.to_dict()
    rows = [
        [k, v if isinstance(v, int | float) else str(v)]
        for k, v in res.items()
        if not isinstance(v, dict | list)
    ]
    sections = [
        Section(
            "var",
            "S&P 500: one-day 99% VaR and ES 一日 99% 风险价值与预期损失",
            "Historical simulation, 250-day window, forecast out of sample (last 750 days).",
            figures=(
                Figure(
                    "Loss vs VaR and ES 损失与 VaR/ES",
                    [
                        Trace("loss", dates, (-r).tolist(), "dot"),
                        Trace("VaR 99%", dates, fc["var"].tolist()),
                        Trace("ES 99%", dates, fc["es"].tolist(), "dash"),
                    ],
                    "date",
                    "loss (fraction)",
                ),
            ),
            tables=(
                Table("Backtest 回测 (last 250 days, traffic light)", ["test", "value"], rows),
            ),
        )
    ]
    state.cache["market"] = sections
    return sections


@router.get("/market", response_class=HTMLResponse)
def market(request: Request) -> Response:
    state, user = _user(request)
    if user is None:
        return _login_redirect(request)
    messages: list[str] = []
    try:
        sections = _market_sections(state)
    except RiskMoEError as exc:
        sections, messages = [], [f"market data unavailable 市场数据不可用: {exc}"]
    return _page(
        "page.html.j2",
        title="Market risk 市场风险",
        active="/market",
        user=user,
        sections=sections,
        messages=messages,
    )


# -- monitoring -----------------------------------------------------------------------------


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring(request: Request) -> Response:
    state, user = _user(request)
    if user is None:
        return _login_redirect(request)
    alerts = state.with_store(lambda s: jobs.alert_rows(s, limit=50))
    sections: list[Section] = []
    messages: list[str] = []
    drift_names = state.with_store(lambda s: [n for n in s.names() + s.log_names() if "drift" in n])
    for name in drift_names:
        frame = state.with_store(partial(jobs.stored_table, name=name))
        if frame is None or frame.empty:
            continue
        frame = frame.tail(50)
        sections.append(
            Section(
                f"drift-{name}",
                f"Drift 漂移: {name}",
                tables=(
                    Table(
                        f"{name} (latest 50 rows)",
                        list(map(str, frame.columns)),
                        [
                            [v if isinstance(v, int | float) else str(v) for v in row]
                            for row in frame.itertuples(index=False)
                        ],
                    ),
                ),
            )
        )
    if not sections:
        messages.append("No drift results stored yet 暂无漂移结果 (`riskmoe monitor`).")
    return _page(
        "monitoring.html.j2",
        title="Monitoring 监控",
        active="/monitoring",
        user=user,
        sections=sections,
        messages=messages,
        alerts=alerts,
    )


@router.get("/ui/alerts.json")
def alerts_json(request: Request) -> Response:
    state, user = _user(request)
    if user is None:
        return JSONResponse({"error": "unauthorized", "message": "log in"}, status_code=401)
    return JSONResponse(state.with_store(lambda s: jobs.alert_rows(s, limit=50)))


# -- models ---------------------------------------------------------------------------------


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request) -> Response:
    state, user = _user(request)
    if user is None:
        return _login_redirect(request)
    reg = state.with_store(registered_models)
    sections: list[Section] = []
    messages: list[str] = []
    if len(reg):
        cols = [
            c
            for c in ("model_id", "dataset", "n_train", "n_test", "auc", "ks", "brier", "ece")
            if c in reg.columns
        ]
        sections.append(
            Section(
                "registry",
                "Registered models 已注册模型",
                "Held-out metrics recorded at training time.",
                tables=(
                    Table(
                        "Benchmark 基准 (held-out)",
                        cols,
                        [
                            [r[c] if not isinstance(r[c], str) else r[c] for c in cols]
                            for r in reg.to_dict(orient="records")
                        ],
                    ),
                ),
            )
        )
        try:
            loaded = state.model()
            usage = loaded.expert_usage
            sections.append(
                Section(
                    "usage",
                    f"Expert utilisation 专家使用率 ({loaded.model_id})",
                    figures=(
                        Figure(
                            "Share of rows routed 路由占比",
                            [Trace("share", list(usage), list(usage.values()))],
                            "expert",
                            "share",
                            kind="bar",
                        ),
                    ),
                )
            )
        except (LookupError, RiskMoEError) as exc:
            messages.append(f"serving model unavailable 模型不可用: {exc}")
    else:
        messages.append("No model registered 未注册模型 (`riskmoe train`).")
    for name in state.with_store(jobs.portfolio_tables):
        scores = state.with_store(partial(jobs.portfolio_scores, table=name))
        if scores is None or len(set(scores[0].tolist())) < 2:
            continue
        q = jobs.score_quality(*scores)
        m = q["metrics"]
        sections.append(
            Section(
                f"quality-{name}",
                f"ROC and calibration 区分度与校准: {name}",
                f"Held-out scores of riskmoe run: AUC {m['auc']:.3f}, Brier {m['brier']:.4f}.",
                figures=jobs.quality_figures(q, "Calibration 校准"),
            )
        )
    return _page(
        "page.html.j2",
        title="Models 模型",
        active="/models",
        user=user,
        sections=sections,
        messages=messages,
    )

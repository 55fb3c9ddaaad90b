"""``/v1/risk/var``: VaR and ES of a return series."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from riskmoe.service.deps import State, Viewer
from riskmoe.service.errors import ERROR_RESPONSES
from riskmoe.service.schemas import VarResponse
from riskmoe.workflow.risk_jobs import market_risk

router = APIRouter(prefix="/v1", tags=["risk"], responses=ERROR_RESPONSES)

Method = Literal["historical", "normal", "student_t", "ewma", "garch_t", "fhs", "monte_carlo"]
SOURCE_PATTERN = r"^(sp500|csi300|sse50)(:[A-Za-z0-9.\-]{1,16})?$|^cn:[0-9]{6}\.(SH|SZ)$"


@router.get("/risk/var", response_model=VarResponse, summary="Value at risk and ES")
def var(
    state: State,
    key: Viewer,
    source: Annotated[
        str,
        Query(
            pattern=SOURCE_PATTERN,
            description="sp500, sp500:TICKER, csi300, cn:600519.SH (files are not served)",
        ),
    ] = "sp500",
    level: Annotated[float, Query(ge=0.9, le=0.999)] = 0.99,
    method: Method = "historical",
    window: Annotated[int, Query(ge=50, le=2500)] = 250,
    horizon: Annotated[int, Query(ge=1, le=250)] = 1,
) -> VarResponse:
    """One-day (or ``horizon``-day, square root of time) VaR and ES as of the last day,
    losses as positive fractions."""
    with state.store():  # market data may come from the store file: serialise
        res = market_risk(
            source, state.settings, level=level, method=method, window=window, horizon=horizon
        )
    d = res.to_dict()
    return VarResponse(
        source=res.source,
        first_date=res.first_date,
        last_date=res.last_date,
        level=level,
        method=method,
        var=float(res.estimate.var),
        es=float(res.estimate.es),
        detail={k: v for k, v in d.items() if isinstance(v, int | float | str | None)},
    )

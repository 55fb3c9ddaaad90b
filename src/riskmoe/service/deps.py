"""Annotated dependencies the routes declare: the app state and the caller by role."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from riskmoe.service.auth import require, state_dependency
from riskmoe.service.state import ServiceState
from riskmoe.workflow.keys import ApiKey

__all__ = ["Admin", "Analyst", "State", "Viewer"]

State = Annotated[ServiceState, Depends(state_dependency)]
Viewer = Annotated[ApiKey, Depends(require("viewer"))]
Analyst = Annotated[ApiKey, Depends(require("analyst"))]
Admin = Annotated[ApiKey, Depends(require("admin"))]

"""The service: a FastAPI API and server-rendered dashboard over the workflow.

It renders what the workflow computes and holds no risk logic. See :func:`create_app`.
"""

from riskmoe.service.app import create_app
from riskmoe.service.config import ServiceConfig

__all__ = ["ServiceConfig", "create_app"]

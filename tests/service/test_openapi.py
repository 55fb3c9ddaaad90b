"""The committed OpenAPI spec (docs/openapi.json) is the one the app serves."""

from __future__ import annotations

import json
from pathlib import Path

from riskmoe.service import create_app

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_app(isolated_settings):
    served = create_app(isolated_settings).openapi()
    committed = json.loads(SPEC.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(served)), (
        'docs/openapi.json is stale; regenerate: .venv/bin/python -c "import json; '
        "from riskmoe.config import Settings; from riskmoe.service import create_app; "
        'print(json.dumps(create_app(Settings()).openapi(), indent=2, ensure_ascii=False))" '
        "> docs/openapi.json"
    )


def test_every_v1_operation_declares_key_security_and_error_bodies():
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    for path, ops in spec["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, op in ops.items():
            assert op.get("security"), (method, path)
            assert {"401", "403", "422"} <= set(op["responses"]), (method, path)

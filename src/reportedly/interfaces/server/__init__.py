"""``reportedly serve``: the HTTP API (FastAPI, OpenAPI at /openapi.json) and the web pages."""

from __future__ import annotations

from reportedly.interfaces.server.app import DEFAULT_MAX_BODY, DEFAULT_TIMEOUT_S, app_from_env, create_app

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_TIMEOUT_S", "app_from_env", "create_app"]

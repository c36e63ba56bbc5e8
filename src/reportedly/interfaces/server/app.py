"""The FastAPI application: JSON API, web pages, limits and error handling.

Errors never leak a traceback: every failure is a JSON ``{"error": "..."}`` on API paths (a
short page on the web pages) with the status that says whose fault it was: 413 body over the
cap, 415 unknown body type, 422 bad input, 404 unknown id, 504 analysis past the time limit,
500 anything unexpected (logged on the server, never shown).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportedly import __version__
from reportedly.errors import InputError, ReportedlyError
from reportedly.interfaces.server.analysis import AnalysisRunner, AnalysisTimeout
from reportedly.interfaces.server.api import build_api
from reportedly.interfaces.server.context import ServerContext
from reportedly.interfaces.server.corpus import Corpus
from reportedly.interfaces.server.inputs import ApiError, validation_message
from reportedly.interfaces.server.limits import BodyLimitMiddleware, BodyTooLarge, wants_json
from reportedly.interfaces.server.pages import build_pages
from reportedly.interfaces.web import STATIC_DIR, TEMPLATES_DIR

log = logging.getLogger("reportedly.server")

DEFAULT_MAX_BODY = 5_000_000
DEFAULT_TIMEOUT_S = 30.0

# Settings travel to uvicorn worker processes through the environment (see app_from_env).
ENV_DB = "REPORTEDLY_SERVE_DB"
ENV_MAX_BODY = "REPORTEDLY_SERVE_MAX_BODY"
ENV_TIMEOUT = "REPORTEDLY_SERVE_TIMEOUT"

DESCRIPTION = """Who claims what in the news, through whom, and how firmly.

`POST /api/analyze` turns one article (text or HTML) into a Report: attributions as Source, Cue
and Content spans with character offsets, resolved sources, relay chains, claims with their
certainty, hedges and opinion sentences. The `/api/articles`, `/api/entities` and `/api/profile`
endpoints read a corpus database made by `reportedly ingest` (start the server with `--db`).

Every error is a JSON object `{"error": "one line"}`.
"""


def create_app(db: Path | None, max_body: int = DEFAULT_MAX_BODY, timeout_s: float = DEFAULT_TIMEOUT_S) -> FastAPI:
    """The application. ``db``: a corpus database to browse (None: analysis only); ``max_body``:
    request body cap in bytes; ``timeout_s``: limit on one analysis, queueing included."""
    if max_body < 1:
        raise ValueError("max_body must be positive")
    if timeout_s <= 0:
        raise ValueError("timeout_s must be positive")
    runner = AnalysisRunner(timeout_s, max_chars=max_body)
    ctx = ServerContext(runner=runner, corpus=Corpus(db) if db is not None else None, max_body=max_body, timeout_s=timeout_s)
    templates = Jinja2Templates(directory=TEMPLATES_DIR)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runner.start()  # once per worker process, before it accepts requests
        try:
            yield
        finally:
            runner.stop()

    app = FastAPI(
        title="reportedly",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Swagger UI and ReDoc load scripts from a CDN; the description stays at /openapi.json and
        # a local page at /api-docs lists the endpoints.
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.add_middleware(BodyLimitMiddleware, max_body=max_body)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(build_api(ctx))
    app.include_router(build_pages(ctx, templates))
    _install_error_handlers(app, templates)
    return app


def _install_error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    def error(request: Request, status: int, message: str) -> Response:
        if wants_json(request.url.path):
            return JSONResponse({"error": message}, status_code=status)
        ctx: ServerContext = request.app.state.ctx
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "message": message, "has_corpus": ctx.corpus is not None},
            status_code=status,
        )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error(request, exc.status, exc.message)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        return error(request, 422, str(exc))

    @app.exception_handler(AnalysisTimeout)
    async def timeout_error(request: Request, exc: AnalysisTimeout) -> Response:
        return error(request, 504, str(exc))

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> Response:
        return error(request, 413, str(exc))

    @app.exception_handler(ReportedlyError)
    async def reportedly_error(request: Request, exc: ReportedlyError) -> Response:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return error(request, 500, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return error(request, 422, f"invalid request: {validation_message(exc)}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if message == HTTPStatus(exc.status_code).phrase:  # Starlette's bare "Not Found": say what was not found
            message = f"{message.lower()}: {request.method} {request.url.path}"
        response = error(request, exc.status_code, message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The traceback goes to the server log (uvicorn logs the re-raised exception); the
        # client gets one line and no internals.
        log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return error(request, 500, f"internal error ({type(exc).__name__})")


def app_from_env() -> FastAPI:
    """Factory for uvicorn (``--factory``): each worker process builds its app from the environment."""
    db = os.environ.get(ENV_DB)
    return create_app(
        Path(db) if db else None,
        max_body=int(os.environ.get(ENV_MAX_BODY, DEFAULT_MAX_BODY)),
        timeout_s=float(os.environ.get(ENV_TIMEOUT, DEFAULT_TIMEOUT_S)),
    )

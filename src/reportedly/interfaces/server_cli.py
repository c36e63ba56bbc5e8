"""``reportedly serve``: the HTTP API and web pages, run by uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

# Kept in step with reportedly.interfaces.server (not imported here: FastAPI loads only for serve).
DEFAULT_MAX_BODY = 5_000_000
DEFAULT_TIMEOUT_S = 30.0


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        db: Annotated[Path | None, typer.Option("--db", help="Corpus database to browse (made by reportedly ingest).")] = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        max_body: Annotated[
            int, typer.Option(min=1, help="Request body cap in bytes; larger bodies get 413.")
        ] = DEFAULT_MAX_BODY,
        timeout: Annotated[
            float, typer.Option(min=0.001, help="Seconds one analysis may take, queueing included; then 504.")
        ] = DEFAULT_TIMEOUT_S,
        workers: Annotated[int, typer.Option(min=1, help="Worker processes, each with its own analyser.")] = 1,
        log_level: Annotated[str, typer.Option(help="uvicorn log level: warning hides the access log.")] = "info",
    ) -> None:
        """Serve the HTTP API (OpenAPI at /openapi.json) and the web pages (analyse; browse a corpus)."""
        import uvicorn

        from reportedly.interfaces.server import app as server_app

        if db is not None:
            from reportedly.corpus.store import Store

            Store(db, create=False).close()  # a wrong --db fails here with one line, not in each worker
            os.environ[server_app.ENV_DB] = str(db.resolve())
        else:
            os.environ.pop(server_app.ENV_DB, None)
        os.environ[server_app.ENV_MAX_BODY] = str(max_body)
        os.environ[server_app.ENV_TIMEOUT] = str(timeout)
        uvicorn.run(
            "reportedly.interfaces.server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            # h11 drains the rest of a refused (413) body before the next request on the connection,
            # so a client still sending gets the 413 rather than a reset; pin it even if httptools is installed.
            http="h11",
        )

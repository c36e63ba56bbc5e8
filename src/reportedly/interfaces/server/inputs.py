"""Reading an article out of a request: JSON, a raw text/HTML body, or a form with a file.

The body is read by hand rather than declared as a FastAPI body parameter so that every way a
body can be wrong (not JSON, wrong shape, not UTF-8, binary) ends in one clear 422 message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportedly.ingest import decode_bytes


class ApiError(Exception):
    """An error with its HTTP status and a one-line message for the ``{"error": ...}`` body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, description="The article as plain text (HTML is recognised too).")
    html: str | None = Field(default=None, description="The article as an HTML page; its main text is extracted.")
    url: str | None = Field(default=None, description="The article's URL (metadata, and the outlet's domain).")
    outlet: str | None = Field(default=None, description="Publishing outlet (default: the HTML's site name or the URL's domain).")


@dataclass
class ArticleInput:
    text: str
    url: str | None
    outlet: str | None
    filename: str | None = None


ANALYZE_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The article: a JSON object, a raw text/plain or text/html body (url and outlet as query "
        "parameters), or a form with a text field or a file field.",
        "content": {
            "application/json": {"schema": AnalyzeRequest.model_json_schema()},
            "text/plain": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                        "url": {"type": "string"},
                        "outlet": {"type": "string"},
                    },
                }
            },
        },
    }
}


def validation_message(exc: ValidationError | Any) -> str:
    """Pydantic's error list as one line: 'field: problem; other: problem'."""
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else str(e.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def _media_type(request: Request) -> tuple[str, str | None]:
    raw = request.headers.get("content-type", "")
    media, _, params = raw.partition(";")
    charset = None
    for p in params.split(";"):
        key, _, value = p.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    return media.strip().lower(), charset


def _blank(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


async def read_article_input(request: Request, max_body: int) -> ArticleInput:
    media, charset = _media_type(request)
    if media in ("application/json", ""):
        body = await request.body()
        try:
            payload = json.loads(body)
        except json.JSONDecodeError as exc:
            raise ApiError(422, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        except UnicodeDecodeError:
            raise ApiError(422, "invalid JSON: not UTF-8") from None
        if not isinstance(payload, dict):
            raise ApiError(422, 'invalid request: expected a JSON object such as {"text": "..."}')
        try:
            req = AnalyzeRequest.model_validate(payload)
        except ValidationError as exc:
            raise ApiError(422, f"invalid request: {validation_message(exc)}") from None
        if (req.text is None) == (req.html is None):
            raise ApiError(422, 'invalid request: give the article as "text" or as "html" (one of them)')
        return ArticleInput(req.text if req.text is not None else req.html or "", req.url, req.outlet)
    if media in ("text/plain", "text/html"):
        text = decode_bytes(await request.body(), encoding=charset, name="request body")
        return ArticleInput(text, _blank(request.query_params.get("url")), _blank(request.query_params.get("outlet")))
    if media in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form(max_files=1, max_fields=20, max_part_size=max_body)
        except StarletteHTTPException as exc:  # malformed multipart: starlette's 400, our 422
            raise ApiError(422, f"invalid form: {exc.detail}") from None
        url, outlet = _blank(form.get("url")), _blank(form.get("outlet"))
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read()
            if data:
                return ArticleInput(decode_bytes(data, encoding=charset, name=upload.filename), url, outlet, upload.filename)
        pasted = form.get("text")
        if not isinstance(pasted, str) or not pasted.strip():
            raise ApiError(422, "empty input, nothing to analyse: paste the article text or choose a file")
        return ArticleInput(pasted, url, outlet)
    raise ApiError(
        415, f"unsupported content type {media!r}: send application/json, text/plain, text/html or multipart/form-data"
    )

"""The web pages: analyse an article, and browse a corpus. Server-rendered; the page script only
adds hover links between the text and the side panel."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from reportedly.errors import InputError
from reportedly.interfaces.server.analysis import AnalysisTimeout
from reportedly.interfaces.server.context import ServerContext
from reportedly.interfaces.server.corpus import ArticleFilter, Corpus
from reportedly.interfaces.server.inputs import ApiError, read_article_input
from reportedly.interfaces.web.views import article_context, profile_chart, timeline_chart

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PER_PAGE = 25


def sample_text() -> str:
    path = resources.files("reportedly").joinpath("examples/slatest-sessions-offered-to-resign.txt")
    return path.read_text(encoding="utf-8")


def build_pages(ctx: ServerContext, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(request: Request, template: str, status: int = 200, /, **context: Any) -> HTMLResponse:
        base = {"has_corpus": ctx.corpus is not None, "max_body": ctx.max_body, "timeout_s": ctx.timeout_s}
        return templates.TemplateResponse(request, template, {**base, **context}, status_code=status)

    def corpus() -> Corpus:
        if ctx.corpus is None:
            raise ApiError(404, "no corpus database: start the server with reportedly serve --db corpus.sqlite")
        return ctx.corpus

    @router.get("/", response_class=HTMLResponse)
    async def index(request: Request, sample: bool = False) -> HTMLResponse:
        return page(request, "index.html", text=sample_text() if sample else "", outlet="Slate" if sample else "", url="")

    @router.post("/analyze", response_class=HTMLResponse)
    async def analyze(request: Request) -> HTMLResponse:
        try:
            item = await read_article_input(request, ctx.max_body)
            report = await ctx.runner.analyze(item.text, url=item.url, outlet=item.outlet)
        except (ApiError, InputError, AnalysisTimeout) as exc:
            status = exc.status if isinstance(exc, ApiError) else 504 if isinstance(exc, AnalysisTimeout) else 422
            form = await request.form() if "form" in request.headers.get("content-type", "") else {}
            kept = {k: v if isinstance(v := form.get(k), str) else "" for k in ("text", "outlet", "url")}
            return page(request, "index.html", status, error=str(exc), **kept)
        view = await run_in_threadpool(article_context, report)  # highlighting a long article is not free
        return page(request, "article.html", origin=item.filename or "pasted text", **view)

    @router.get("/api-docs", response_class=HTMLResponse)
    async def api_docs(request: Request) -> HTMLResponse:
        spec = request.app.openapi()
        endpoints = [
            {"method": method.upper(), "path": path, "summary": op.get("summary", ""), "tag": (op.get("tags") or [""])[0]}
            for path, ops in spec["paths"].items()
            for method, op in ops.items()
        ]
        return page(request, "api.html", endpoints=endpoints, title=spec["info"]["title"], version=spec["info"]["version"])

    @router.get("/corpus", response_class=HTMLResponse)
    def corpus_home(request: Request) -> HTMLResponse:
        if ctx.corpus is None:
            return page(request, "corpus.html", totals=None)
        rows = ctx.corpus.profile()
        return page(
            request,
            "corpus.html",
            totals=ctx.corpus.totals(),
            profile=rows,
            chart=profile_chart(rows),
            top=ctx.corpus.top_entities(18),
            outlets=ctx.corpus.outlets(),
        )

    @router.get("/corpus/articles", response_class=HTMLResponse)
    def corpus_articles(
        request: Request,
        outlet: str = "",
        date_from: str = "",
        date_to: str = "",
        entity: str = "",
        page_no: int = 1,
    ) -> HTMLResponse:
        c = corpus()
        bad = [d for d in (date_from, date_to) if d and not _DATE.match(d)]
        if bad:
            raise ApiError(422, f"dates are YYYY-MM-DD, not {bad[0]!r}")
        flt = ArticleFilter(outlet or None, date_from or None, date_to or None, entity.strip() or None)
        result = c.articles(flt, max(page_no, 1), PER_PAGE)
        return page(request, "articles.html", result=result, flt=flt, params=flt.as_params(), outlets=c.outlets())

    @router.get("/corpus/articles/{article_id}", response_class=HTMLResponse)
    def corpus_article(request: Request, article_id: str) -> HTMLResponse:
        report = corpus().report(article_id)
        if report is None:
            raise ApiError(404, f"no article with id {article_id!r}")
        return page(request, "article.html", origin="corpus", **article_context(report))

    @router.get("/corpus/entities", response_class=HTMLResponse)
    def corpus_entities(request: Request, name: str = "") -> HTMLResponse:
        c = corpus()
        found = c.find_entities(name) if name.strip() else []
        return page(request, "entities.html", name=name, found=found)

    @router.get("/corpus/entities/{entity_id}", response_class=HTMLResponse)
    def corpus_entity(request: Request, entity_id: int) -> HTMLResponse:
        c = corpus()
        entity = c.entity(entity_id)
        if entity is None:
            raise ApiError(404, f"no entity with id {entity_id}")
        timeline = c.entity_timeline(entity_id)
        return page(
            request,
            "entity.html",
            entity=entity,
            chart=timeline_chart(timeline),
            sources=c.entity_sources(entity_id),
            about=c.entity_claims(entity_id, "about", 500),
            by=c.entity_claims(entity_id, "by", 500),
        )

    @router.get("/corpus/search", response_class=HTMLResponse)
    def corpus_search(request: Request, q: str = "") -> HTMLResponse:
        hits = corpus().search(q, 100) if q.strip() else []
        return page(request, "search.html", q=q, hits=hits)

    @router.get("/stories", response_class=HTMLResponse)
    def stories_page(request: Request) -> HTMLResponse:
        return page(request, "stories.html", stories=corpus().stories(200))

    @router.get("/stories/{story_id}", response_class=HTMLResponse)
    def story_page(request: Request, story_id: int) -> HTMLResponse:
        found = corpus().story(story_id)
        if found is None:
            raise ApiError(404, f"no story with id {story_id}")
        return page(request, "story.html", story=found)

    @router.get("/claims/{claim_id}/provenance", response_class=HTMLResponse)
    def provenance_page(request: Request, claim_id: int) -> HTMLResponse:
        found = corpus().provenance(claim_id)
        if found is None:
            raise ApiError(404, f"no claim with id {claim_id}")
        return page(request, "provenance.html", prov=found)

    @router.get("/claims/{claim_id}/provenance.png")
    def provenance_png(claim_id: int) -> Response:
        c = corpus()
        found = c.provenance(claim_id)
        if found is None:
            raise ApiError(404, f"no claim with id {claim_id}")
        # drawn on demand: a graph is a few outlets, and caching it would go stale as articles arrive
        return Response(c.provenance_png(found), media_type="image/png", headers={"cache-control": "no-store"})

    @router.get("/events", response_class=HTMLResponse)
    def events_page(request: Request, actor: str = "") -> HTMLResponse:
        rows = corpus().events(actor.strip() or None, 500)
        return page(request, "events.html", actor=actor.strip(), events=rows)

    return router

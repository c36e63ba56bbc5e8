"""The JSON API: ``/api/...`` and ``/healthz``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from reportedly import __version__
from reportedly.interfaces.server.context import ServerContext
from reportedly.interfaces.server.corpus import ArticleFilter, Corpus
from reportedly.interfaces.server.inputs import ANALYZE_BODY_DOC, ApiError, read_article_input
from reportedly.model import SCHEMA_VERSION, Report

DATE = r"^\d{4}-\d{2}-\d{2}$"


class ErrorOut(BaseModel):
    error: str


class Health(BaseModel):
    status: str
    version: str
    schema_version: str
    pipeline: str
    corpus: bool


class ArticleSummary(BaseModel):
    id: str
    outlet: str | None
    date: str | None
    title: str | None
    url: str | None
    words: int
    attributions: int
    opinion_sentences: int
    sentences: int


class ArticlePage(BaseModel):
    total: int
    page: int
    per_page: int
    pages: int
    items: list[ArticleSummary]


class EntityOut(BaseModel):
    id: int
    name: str
    kind: str
    mentions: int
    articles: int


class ClaimRow(BaseModel):
    date: str | None
    outlet: str | None
    source: str | None
    anonymous: bool
    certainty: str
    claim: str
    article: str
    title: str | None = None


class EntityClaims(BaseModel):
    entity: EntityOut
    role: str
    limit: int
    offset: int
    claims: list[ClaimRow]


class SourceCount(BaseModel):
    source: str | None
    anonymous: bool
    claims: int
    hedged: int
    articles: int


class DayCount(BaseModel):
    date: str
    claims: int
    hedged: int


class EntityDetail(BaseModel):
    entity: EntityOut
    sources: list[SourceCount]
    timeline: list[DayCount]


class ProfileRow(BaseModel):
    model_config = ConfigDict(extra="allow")  # new measures in corpus.query.profile pass through

    outlet: str
    articles: int
    words: int
    attributions_per_1000_words: float
    anonymous_share: float
    hedged_share: float
    opinion_share: float


class SearchHit(BaseModel):
    date: str | None
    outlet: str | None
    source: str | None
    certainty: str
    claim: str
    article: str


class StoryRow(BaseModel):
    story: int
    articles: int
    outlets: int
    first_date: str | None
    last_date: str | None
    outlet_names: str | None
    about: str


class StoryArticle(BaseModel):
    id: str
    date: str | None
    outlet: str | None
    title: str | None
    url: str | None
    similarity: float | None


class TravellingClaim(BaseModel):
    claim_id: int = Field(description="The claim that reported it first; its provenance is at /api/claims/{claim_id}/provenance.")
    reports: int
    outlets: int
    text: str
    outlet_names: str | None


class CitationEdge(BaseModel):
    citing: str
    cited: str
    n: int


class StoryDetail(BaseModel):
    story: int
    first_date: str | None
    last_date: str | None
    articles: int
    items: list[StoryArticle]
    claims: list[TravellingClaim]
    citations: list[CitationEdge]


class ProvenanceClaim(BaseModel):
    rowid: int
    text: str
    article_id: str
    outlet: str | None
    date: str | None
    story_id: int | None


class ProvenanceReport(BaseModel):
    claim: int
    first: bool
    text: str
    outlet: str | None
    date: str | None
    article_id: str
    source: str | None
    anonymous: bool | None


class Provenance(BaseModel):
    claim: ProvenanceClaim
    reports: list[ProvenanceReport]
    citations: list[CitationEdge]


class EventRow(BaseModel):
    date: str | None
    outlet: str | None
    actor: str | None
    action: str
    target: str | None
    cameo: str | None
    cameo_label: str | None
    certainty: str = Field(description="The outlet's own certainty.")
    support: str | None
    article: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut} for code in codes}


def build_api(ctx: ServerContext) -> APIRouter:
    router = APIRouter()

    def corpus() -> Corpus:
        if ctx.corpus is None:
            raise ApiError(404, "no corpus database: start the server with reportedly serve --db corpus.sqlite")
        return ctx.corpus

    @router.get("/healthz", response_model=Health, tags=["service"], summary="Liveness and what is loaded")
    async def healthz() -> Health:
        return Health(
            status="ok", version=__version__, schema_version=SCHEMA_VERSION, pipeline=ctx.runner.pipeline, corpus=bool(ctx.corpus)
        )

    @router.post(
        "/api/analyze",
        response_model=Report,
        tags=["analysis"],
        summary="Analyse one article",
        description="Text or HTML in, the Report out (attributions, sources, claims, hedges, voice; the versioned "
        "schema that `reportedly schema` prints). Bodies over the server's cap get 413, input that is not an "
        "analysable English article 422, analysis past the time limit 504.",
        openapi_extra=ANALYZE_BODY_DOC,
        responses=_errors(413, 415, 422, 504),
    )
    async def analyze(request: Request) -> Response:
        item = await read_article_input(request, ctx.max_body)
        report = await ctx.runner.analyze(item.text, url=item.url, outlet=item.outlet)
        # The Report is already valid: serialise it once (off the event loop: a big article takes
        # a while) rather than have FastAPI re-validate it.
        return Response(await run_in_threadpool(report.model_dump_json), media_type="application/json")

    @router.get(
        "/api/articles", response_model=ArticlePage, tags=["corpus"], summary="Articles, paged", responses=_errors(404, 422)
    )
    def articles(
        outlet: Annotated[str | None, Query(description="Outlet name or domain.")] = None,
        date_from: Annotated[str | None, Query(pattern=DATE, description="YYYY-MM-DD, inclusive.")] = None,
        date_to: Annotated[str | None, Query(pattern=DATE, description="YYYY-MM-DD, inclusive.")] = None,
        entity: Annotated[str | None, Query(description="Articles mentioning an entity: its id, or a name.")] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        per_page: Annotated[int, Query(ge=1, le=200)] = 20,
    ) -> dict[str, Any]:
        return corpus().articles(ArticleFilter(outlet, date_from, date_to, entity), page, per_page)

    @router.get(
        "/api/articles/{article_id}",
        response_model=Report,
        tags=["corpus"],
        summary="One stored article's Report",
        responses=_errors(404),
    )
    def article(article_id: str) -> Response:
        report = corpus().report(article_id)
        if report is None:
            raise ApiError(404, f"no article with id {article_id!r}")
        return Response(report.model_dump_json(), media_type="application/json")

    @router.get("/api/entities", response_model=list[EntityOut], tags=["corpus"], summary="Find entities by name")
    def entities(name: Annotated[str, Query(min_length=1, description="Any name form: 'Sessions', 'Jeff Sessions'.")]) -> Any:
        return corpus().find_entities(name)

    def _entity(entity_id: int) -> dict[str, Any]:
        found = corpus().entity(entity_id)
        if found is None:
            raise ApiError(404, f"no entity with id {entity_id}")
        return found

    @router.get(
        "/api/entities/{entity_id}",
        response_model=EntityDetail,
        tags=["corpus"],
        summary="An entity: who makes claims about it, and when",
        responses=_errors(404),
    )
    def entity(entity_id: int) -> dict[str, Any]:
        found = _entity(entity_id)
        c = corpus()
        return {"entity": found, "sources": c.entity_sources(entity_id), "timeline": c.entity_timeline(entity_id)}

    @router.get(
        "/api/entities/{entity_id}/claims",
        response_model=EntityClaims,
        tags=["corpus"],
        summary="Claims about an entity, or by it",
        responses=_errors(404, 422),
    )
    def entity_claims(
        entity_id: int,
        role: Annotated[Literal["about", "by"], Query(description="about: mentioning it; by: it is the source.")] = "about",
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        found = _entity(entity_id)
        claims = corpus().entity_claims(entity_id, role, limit, offset)
        return {"entity": found, "role": role, "limit": limit, "offset": offset, "claims": claims}

    @router.get(
        "/api/profile",
        response_model=list[ProfileRow],
        tags=["corpus"],
        summary="Sourcing profile per outlet",
        description="Per outlet: articles, attributions per 1,000 words, and the shares of anonymous sources, "
        "hedged claims (below certain) and opinion sentences.",
        responses=_errors(404),
    )
    def profile() -> Any:
        return corpus().profile()

    @router.get("/api/search", response_model=list[SearchHit], tags=["corpus"], summary="Full-text search over claims (FTS5)")
    def search(
        q: Annotated[str, Query(min_length=1, description="Words or an FTS5 query: 'resign*', 'Sessions AND Trump'.")],
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> Any:
        return corpus().search(q, limit)

    @router.get(
        "/api/stories",
        response_model=list[StoryRow],
        tags=["corpus"],
        summary="Stories: articles clustered across outlets and days, biggest first",
        description="Articles ingested since the last look are placed first (when the database can be written).",
        responses=_errors(404),
    )
    def stories(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
        return corpus().stories(limit)

    @router.get(
        "/api/stories/{story_id}",
        response_model=StoryDetail,
        tags=["corpus"],
        summary="A story: its articles, travelling claims and citations",
        responses=_errors(404),
    )
    def story(story_id: int) -> Any:
        found = corpus().story(story_id)
        if found is None:
            raise ApiError(404, f"no story with id {story_id}")
        return found

    @router.get(
        "/api/claims/{claim_id}/provenance",
        response_model=Provenance,
        tags=["corpus"],
        summary="How a claim travelled: who reported it first, who relayed it, who cites whom",
        responses=_errors(404),
    )
    def claim_provenance(claim_id: int) -> Any:
        found = corpus().provenance(claim_id)
        if found is None:
            raise ApiError(404, f"no claim with id {claim_id}")
        return found

    @router.get(
        "/api/events",
        response_model=list[EventRow],
        tags=["corpus"],
        summary="Who did what to whom: events with a CAMEO class or a target, and their support",
        responses=_errors(404, 422),
    )
    def events(
        actor: Annotated[str | None, Query(description="Only events this entity did: any name form, 'Sessions'.")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> Any:
        return corpus().events(actor.strip() or None if actor else None, limit)

    return router

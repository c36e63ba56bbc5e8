"""The data model: the one contract between ingestion, analysers and interfaces.

Every span carries character offsets into ``Article.text`` (``text[start:end] == span.text``),
so any consumer can highlight, export or re-align without re-tokenising.

The JSON schema is generated from these types (``reportedly schema``) and versioned by
``SCHEMA_VERSION``: bump the minor part for additive changes, the major part for anything that
would break a reader of stored reports.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.1.0"  # 1.1: Report.events, Claim.factuality (both additive)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Span(_Model):
    """A stretch of the article text, ``[start, end)`` in characters."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


class ArticleMeta(_Model):
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site_name: str | None = None
    url: str | None = None
    outlet: str | None = Field(
        default=None, description="Publishing outlet: given explicitly, or the site name, or the URL's domain."
    )
    language: str = "en"
    source_format: str = Field(default="text", description="text or html")


class Article(_Model):
    id: str = Field(description="Content hash of the text (sha256, hex, first 16 chars).")
    text: str
    meta: ArticleMeta = Field(default_factory=ArticleMeta)
    paragraphs: list[Span] = Field(default_factory=list)


class EntityKind(StrEnum):
    person = "person"
    organisation = "organisation"
    outlet = "outlet"
    place = "place"
    role = "role"
    document = "document"
    group = "group"


class Entity(_Model):
    id: str
    name: str = Field(description="Canonical name: the fullest form seen in the article.")
    kind: EntityKind
    titles: list[str] = Field(default_factory=list, description="Roles seen with the name, e.g. 'attorney general'.")
    mentions: list[Span] = Field(default_factory=list)


class SourceKind(StrEnum):
    person = "person"
    organisation = "organisation"
    outlet = "outlet"
    role = "role"
    document = "document"
    anonymous = "anonymous"
    unresolved = "unresolved"


class Source(_Model):
    """Who an attribution is credited to, after resolving pronouns and descriptions."""

    id: str
    kind: SourceKind
    name: str = Field(description="Entity name, or the descriptor of an anonymous group.")
    entity_id: str | None = None
    anonymous: bool = False
    descriptor: str | None = Field(
        default=None, description="For anonymous or role sources: e.g. 'people close to the White House'."
    )
    count: int | None = Field(default=None, description="Group size when the text states it ('two people' -> 2).")
    mentions: list[Span] = Field(default_factory=list)


class AttributionKind(StrEnum):
    direct = "direct"
    mixed = "mixed"
    indirect = "indirect"
    according_to = "according-to"
    belief_or_intent = "belief-or-intent"


class Attribution(_Model):
    id: str
    kind: AttributionKind
    source: Span | None = Field(description="The source mention as written ('these people'); None when implicit.")
    cue: Span
    content: list[Span] = Field(
        description="Content pieces in text order; several when a quote is split or a parenthetical is cut out."
    )
    source_id: str | None = Field(default=None, description="Resolved Source.id.")
    parent_id: str | None = Field(default=None, description="The attribution this one is relayed through (chains).")
    rule: str = Field(default="", description="Which rule found it, for error analysis.")

    @property
    def content_text(self) -> str:
        return " … ".join(p.text for p in self.content)


class Certainty(StrEnum):
    certain = "certain"
    probable = "probable"
    possible = "possible"
    unknown = "unknown"
    negated = "negated"


class Hedge(_Model):
    id: str
    cue: Span
    kind: Certainty = Field(description="The certainty class this cue signals on its own.")
    scope: Span | None = Field(default=None, description="The clause the cue governs.")


class Claim(_Model):
    id: str
    content: list[Span]
    certainty: Certainty
    hedge_ids: list[str] = Field(default_factory=list)
    attribution_id: str | None = Field(default=None, description="Supporting attribution; None means the outlet itself.")
    factuality: float | None = Field(
        default=None,
        ge=-3.0,
        le=3.0,
        description="Learned factuality of the claim's main predicate: -3 did not happen, 0 unknown, +3 happened (UW scale).",
    )


class Voice(StrEnum):
    reporting = "reporting"
    opinion = "opinion"


class VoiceSpan(_Model):
    sentence: Span
    voice: Voice
    score: float = Field(description="Opinion evidence; the sentence is opinion at >= 1.0.")
    cues: list[Span] = Field(default_factory=list, description="Evaluative words or marks that raised the score.")


class Event(_Model):
    """Who did what to whom, as one mention in the text, with the support behind it."""

    id: str
    predicate: str = Field(description="Verb lemma with particle or light-verb object: 'offer resignation', 'go after'.")
    trigger: Span = Field(description="The verb (and the event noun of a light verb).")
    actor: Span | None = None
    actor_name: str | None = Field(default=None, description="Resolved actor: entity name, else the phrase.")
    actor_entity_id: str | None = None
    target: Span | None = None
    target_name: str | None = None
    target_entity_id: str | None = None
    target_event_id: str | None = Field(default=None, description="When the target is another event ('refused the offer').")
    cameo: str | None = Field(default=None, description="CAMEO top-level class, two digits ('12' reject).")
    cameo_label: str | None = None
    negated: bool = False
    tense: str = Field(default="unknown", description="past, present, future or unknown.")
    certainty: Certainty = Field(description="As its supporting source presents it (the covering claim's certainty).")
    outlet_certainty: Certainty = Field(
        description="The publisher's own commitment: relayed events are at most probable; hedges lower it further."
    )
    attribution_id: str | None = Field(default=None, description="Supporting attribution; None means the outlet itself.")
    claim_id: str | None = None
    same_as: str | None = Field(default=None, description="An earlier mention of the same event ('made the suggestion').")


class Report(_Model):
    schema_version: str = SCHEMA_VERSION
    reportedly_version: str = ""
    pipeline: str = Field(default="", description="spaCy pipeline name and version used.")
    article: Article
    entities: list[Entity] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    attributions: list[Attribution] = Field(default_factory=list)
    hedges: list[Hedge] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    voice: list[VoiceSpan] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)

    # Convenience look-ups: reports are small, so linear scans keep the model plain data.
    def source(self, source_id: str | None) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def attribution(self, attribution_id: str | None) -> Attribution | None:
        return next((a for a in self.attributions if a.id == attribution_id), None)

    def chain(self, attribution: Attribution) -> list[str]:
        """Relay chain as source names, outermost first: [publishing outlet, cited outlet, ..., this source]."""
        names: list[str] = []
        seen: set[str] = set()
        node: Attribution | None = attribution
        while node is not None and node.id not in seen:
            seen.add(node.id)
            src = self.source(node.source_id)
            names.append(src.name if src else (node.source.text if node.source else "?"))
            node = self.attribution(node.parent_id)
        names.append(self.article.meta.outlet or "this outlet")
        return list(reversed(names))

    def claim_for(self, attribution: Attribution) -> Claim | None:
        return next((c for c in self.claims if c.attribution_id == attribution.id), None)

    def event(self, event_id: str | None) -> Event | None:
        return next((e for e in self.events if e.id == event_id), None)

    def event_group(self, event: Event) -> list[Event]:
        """Every mention of the same event as ``event`` (linked through ``same_as``), in text order."""
        root = event
        while root.same_as is not None and (up := self.event(root.same_as)) is not None:
            root = up

        def root_of(e: Event) -> str:
            while e.same_as is not None and (up := self.event(e.same_as)) is not None:
                e = up
            return e.id

        return [e for e in self.events if root_of(e) == root.id]

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


def json_schema() -> dict[str, Any]:
    schema = Report.model_json_schema()
    schema["$id"] = f"https://reportedly.dev/schema/report-{SCHEMA_VERSION}.json"
    schema["version"] = SCHEMA_VERSION
    return schema

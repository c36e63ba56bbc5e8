"""A Report as flat table rows: the one definition the SQLite store, the exporters and the Spark
runner share, so a corpus analysed anywhere has the same tables.

Column order is the tables' column order. Corpus-level entity ids are not part of these rows:
they are assigned by whoever merges entities across articles (SQLite or Spark).
"""

from __future__ import annotations

from typing import Any

from reportedly.model import Report, Voice

ARTICLE_COLUMNS = ("id", "origin", "outlet", "url", "title", "author", "date", "words", "sentences", "opinion_sentences")
ATTRIBUTION_COLUMNS = (
    "article_id", "id", "kind", "source_text", "cue", "content", "source_name", "source_kind", "anonymous",
    "source_count", "descriptor", "parent_id", "certainty",
)  # fmt: skip
CLAIM_COLUMNS = ("article_id", "id", "text", "certainty", "attribution_id")
EVENT_COLUMNS = (
    "article_id", "id", "actor", "predicate", "target", "cameo", "negated", "tense", "certainty",
    "outlet_certainty", "attribution_id", "same_as", "support",
)  # fmt: skip
ENTITY_MENTION_COLUMNS = ("article_id", "local_id", "name", "kind", "mentions")

Row = dict[str, Any]


def article_row(report: Report, origin: str) -> Row:
    art, m = report.article, report.article.meta
    return {
        "id": art.id,
        "origin": origin,
        "outlet": m.outlet,
        "url": m.url,
        "title": m.title,
        "author": m.author,
        "date": m.date,
        "words": len(art.text.split()),
        "sentences": len(report.voice),
        "opinion_sentences": sum(1 for v in report.voice if v.voice == Voice.opinion),
    }


def attribution_rows(report: Report) -> list[Row]:
    art_id = report.article.id
    claims = {c.attribution_id: c for c in report.claims if c.attribution_id}
    rows = []
    for a in report.attributions:
        src = report.source(a.source_id)
        claim = claims.get(a.id)
        rows.append(
            {
                "article_id": art_id,
                "id": a.id,
                "kind": a.kind.value,
                "source_text": a.source.text if a.source else None,
                "cue": a.cue.text,
                "content": a.content_text,
                "source_name": src.name if src else None,
                "source_kind": src.kind.value if src else None,
                "anonymous": int(bool(src and src.anonymous)),
                "source_count": src.count if src else None,
                "descriptor": src.descriptor if src else None,
                "parent_id": a.parent_id,
                "certainty": claim.certainty.value if claim else None,
            }
        )
    return rows


def claim_rows(report: Report) -> list[Row]:
    art_id = report.article.id
    return [
        {
            "article_id": art_id,
            "id": c.id,
            "text": " … ".join(p.text for p in c.content),
            "certainty": c.certainty.value,
            "attribution_id": c.attribution_id,
        }
        for c in report.claims
    ]


def entity_mention_rows(report: Report) -> list[Row]:
    """One row per article-level entity; corpus-level merging keys on (kind, name)."""
    art_id = report.article.id
    return [
        {"article_id": art_id, "local_id": e.id, "name": e.name, "kind": e.kind.value, "mentions": len(e.mentions)}
        for e in report.entities
    ]


def event_rows(report: Report) -> list[Row]:
    art_id = report.article.id
    outlet = report.article.meta.outlet or "this outlet"
    rows = []
    for e in report.events:
        a = report.attribution(e.attribution_id)
        rows.append(
            {
                "article_id": art_id,
                "id": e.id,
                "actor": e.actor_name,
                "predicate": e.predicate,
                "target": e.target_name,
                "cameo": e.cameo,
                "negated": int(e.negated),
                "tense": e.tense,
                "certainty": e.certainty.value,
                "outlet_certainty": e.outlet_certainty.value,
                "attribution_id": e.attribution_id,
                "same_as": e.same_as,
                "support": " ← ".join(report.chain(a)) if a is not None else f"{outlet} itself",
            }
        )
    return rows

"""Read-only access to a corpus database for the API and the pages.

A connection per call: sqlite3 connections belong to the thread that opened them, and the
server answers corpus requests on a pool of threads. Opening one costs well under a millisecond.
Entity pages look entities up by their corpus id, so the by-id queries live here; the by-name
questions reuse :mod:`reportedly.corpus.query`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportedly.corpus import query
from reportedly.corpus.entities import outlet_name
from reportedly.corpus.store import Store
from reportedly.model import Report

Row = dict[str, Any]

_CLAIM_COLUMNS = """ar.date, ar.outlet, coalesce(at.source_name, ar.outlet || ' (itself)', '(the outlet itself)') AS source,
                    coalesce(at.anonymous, 0) AS anonymous, c.certainty, c.text AS claim, ar.id AS article, ar.title"""


@dataclass(frozen=True)
class ArticleFilter:
    outlet: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    entity: str | None = None  # a corpus entity id, or a name any of whose forms is merged into entities

    def as_params(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


class Corpus:
    def __init__(self, path: Path) -> None:
        self.path = path
        with self.store():  # fail at start-up, not at the first request, on a missing or foreign file
            pass

    @contextmanager
    def store(self) -> Iterator[Store]:
        store = Store(self.path, create=False)
        try:
            yield store
        finally:
            store.close()

    # -- articles ---------------------------------------------------------------------------------
    def _entity_ids(self, store: Store, entity: str) -> list[int]:
        if entity.isdigit():
            return [int(entity)]
        return [int(e["id"]) for e in query.find_entities(store, entity)]

    def articles(self, flt: ArticleFilter, page: int, per_page: int) -> Row:
        where: list[str] = []
        params: list[Any] = []
        if flt.outlet:
            names = sorted({flt.outlet.lower(), outlet_name(flt.outlet).lower()})
            where.append(f"lower(ar.outlet) IN ({','.join('?' * len(names))})")
            params += names
        if flt.date_from:
            where.append("ar.date >= ?")
            params.append(flt.date_from)
        if flt.date_to:
            # dates may carry a time ("2024-03-05T10:00"): compare on the date part
            where.append("substr(ar.date, 1, 10) <= ?")
            params.append(flt.date_to)
        with self.store() as store:
            if flt.entity:
                ids = self._entity_ids(store, flt.entity) or [-1]
                where.append(
                    f"ar.id IN (SELECT article_id FROM article_entities WHERE entity_id IN ({','.join('?' * len(ids))}))"
                )
                params += ids
            clause = " AND ".join(where) or "1"
            total = int(store.query(f"SELECT count(*) FROM articles ar WHERE {clause}", tuple(params))[0][0])
            rows = store.query(
                f"""SELECT ar.id, ar.outlet, ar.date, ar.title, ar.url, ar.words,
                           (SELECT count(*) FROM attributions at WHERE at.article_id = ar.id) AS attributions,
                           ar.opinion_sentences, ar.sentences
                    FROM articles ar WHERE {clause}
                    ORDER BY ar.date IS NULL, ar.date DESC, ar.outlet, ar.id LIMIT ? OFFSET ?""",
                (*params, per_page, (page - 1) * per_page),
            )
        return {
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, math.ceil(total / per_page)),
            "items": [dict(r) for r in rows],
        }

    def report(self, article_id: str) -> Report | None:
        with self.store() as store:
            return store.report(article_id)

    def outlets(self) -> list[str]:
        with self.store() as store:
            return [r[0] for r in store.query("SELECT DISTINCT outlet FROM articles WHERE outlet IS NOT NULL ORDER BY 1")]

    def totals(self) -> dict[str, int]:
        with self.store() as store:
            return {t: store.count(t) for t in ("articles", "attributions", "claims", "entities", "failures")}

    # -- entities ---------------------------------------------------------------------------------
    def entity(self, entity_id: int) -> Row | None:
        with self.store() as store:
            rows = store.query("SELECT id, name, kind, mentions, articles FROM entities WHERE id = ?", (entity_id,))
        return dict(rows[0]) if rows else None

    def find_entities(self, name: str, limit: int = 50) -> list[Row]:
        """Exact name forms first (any merged alias), then names containing the words."""
        with self.store() as store:
            found = {int(r["id"]): r for r in query.find_entities(store, name)}
            pattern = "%" + name.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            for r in store.query(
                "SELECT id, name, kind, mentions, articles FROM entities WHERE name LIKE ? ESCAPE '\\' "
                "ORDER BY articles DESC, mentions DESC LIMIT ?",
                (pattern, limit),
            ):
                found.setdefault(int(r["id"]), dict(r))
        return list(found.values())[:limit]

    def top_entities(self, limit: int = 20) -> list[Row]:
        with self.store() as store:
            rows = store.query(
                "SELECT id, name, kind, mentions, articles FROM entities ORDER BY articles DESC, mentions DESC, name LIMIT ?",
                (limit,),
            )
        return [dict(r) for r in rows]

    def entity_claims(self, entity_id: int, role: str, limit: int, offset: int = 0) -> list[Row]:
        """role 'about': claims whose content mentions the entity; 'by': claims it is the source of."""
        if role == "about":
            sql = f"""SELECT {_CLAIM_COLUMNS}
                      FROM claim_entities ce
                      JOIN claims c ON c.rowid = ce.claim_rowid
                      JOIN articles ar ON ar.id = c.article_id
                      LEFT JOIN attributions at ON at.article_id = c.article_id AND at.id = c.attribution_id
                      WHERE ce.entity_id = ?
                      ORDER BY ar.date IS NULL, ar.date, ar.outlet, c.rowid LIMIT ? OFFSET ?"""
        else:
            sql = f"""SELECT {_CLAIM_COLUMNS}
                      FROM attributions at
                      JOIN claims c ON c.article_id = at.article_id AND c.attribution_id = at.id
                      JOIN articles ar ON ar.id = c.article_id
                      WHERE at.entity_id = ?
                      ORDER BY ar.date IS NULL, ar.date, ar.outlet, c.rowid LIMIT ? OFFSET ?"""
        with self.store() as store:
            return [dict(r) for r in store.query(sql, (entity_id, limit, offset))]

    def entity_sources(self, entity_id: int) -> list[Row]:
        """Who makes the claims about the entity: one row per source, most claims first."""
        with self.store() as store:
            rows = store.query(
                """SELECT coalesce(at.source_name, ar.outlet || ' (itself)', '(the outlet itself)') AS source,
                          coalesce(at.anonymous, 0) AS anonymous, count(*) AS claims,
                          sum(c.certainty != 'certain') AS hedged, count(DISTINCT ar.id) AS articles
                   FROM claim_entities ce
                   JOIN claims c ON c.rowid = ce.claim_rowid
                   JOIN articles ar ON ar.id = c.article_id
                   LEFT JOIN attributions at ON at.article_id = c.article_id AND at.id = c.attribution_id
                   WHERE ce.entity_id = ?
                   GROUP BY 1, 2 ORDER BY claims DESC, source""",
                (entity_id,),
            )
        return [dict(r) for r in rows]

    def entity_timeline(self, entity_id: int) -> list[Row]:
        """Claims about the entity per day (undated articles left out)."""
        with self.store() as store:
            rows = store.query(
                """SELECT substr(ar.date, 1, 10) AS date, count(*) AS claims, sum(c.certainty != 'certain') AS hedged
                   FROM claim_entities ce
                   JOIN claims c ON c.rowid = ce.claim_rowid
                   JOIN articles ar ON ar.id = c.article_id
                   WHERE ce.entity_id = ? AND ar.date IS NOT NULL
                   GROUP BY 1 ORDER BY 1""",
                (entity_id,),
            )
        return [dict(r) for r in rows]

    # -- whole corpus -----------------------------------------------------------------------------
    def profile(self) -> list[Row]:
        with self.store() as store:
            return query.profile(store)

    def search(self, text: str, limit: int = 50) -> list[Row]:
        with self.store() as store:
            return query.search(store, text, limit)

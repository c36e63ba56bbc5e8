"""Access to a corpus database for the API and the pages: reads, except for placing newly
ingested articles into stories (see :meth:`Corpus.place_stories`).

A connection per call: sqlite3 connections belong to the thread that opened them, and the
server answers corpus requests on a pool of threads. Opening one costs well under a millisecond.
Entity pages look entities up by their corpus id, so the by-id queries live here; the by-name
questions reuse :mod:`reportedly.corpus.query`.
"""

from __future__ import annotations

import io
import logging
import math
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportedly.corpus import query
from reportedly.corpus import stories as story_model
from reportedly.corpus.entities import outlet_name
from reportedly.corpus.store import Store
from reportedly.errors import ReportedlyError
from reportedly.model import Report

log = logging.getLogger("reportedly.server")

Row = dict[str, Any]

# One assignment at a time in this process: two request threads placing the same new articles
# would both insert them. (Worker processes are serialised by SQLite's lock; a loser's error is
# caught like a read-only file's.) Matplotlib's pyplot keeps global state, so plots take turns too.
_PLACING = threading.Lock()
_PLOTTING = threading.Lock()

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

    # -- stories, claim travel, events --------------------------------------------------------------
    def place_stories(self) -> bool:
        """Put articles ingested since the last run into stories, as ``reportedly query stories``
        does; False when the database cannot be written (a read-only file or directory, or
        another process holding the lock), and the stories are then shown as they are."""
        with _PLACING, self.store() as store:
            try:
                placed = story_model.assign_stories(store)
            except sqlite3.Error as exc:
                log.warning("stories not updated (%s): showing them as they are", exc)
                return False
        if placed:
            log.info("placed %d new articles in stories", placed)
        return True

    @staticmethod
    def _has_stories(store: Store) -> bool:
        return bool(store.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'travelling_claims'"))

    def stories(self, limit: int = 100) -> list[Row]:
        self.place_stories()
        with self.store() as store:
            return story_model.stories(store, limit) if self._has_stories(store) else []

    def story(self, story_id: int) -> Row | None:
        """A story's articles, oldest first, and its travelling claims (reported by two or more
        articles), each named by the claim that reported it first."""
        self.place_stories()
        with self.store() as store:
            if not self._has_stories(store):
                return None
            head = store.query("SELECT id AS story, first_date, last_date, articles FROM stories WHERE id = ?", (story_id,))
            if not head:
                return None
            articles = store.query(
                """SELECT ar.id, ar.date, ar.outlet, ar.title, ar.url, sa.similarity
                   FROM story_articles sa JOIN articles ar ON ar.id = sa.article_id
                   WHERE sa.story_id = ? ORDER BY ar.date IS NULL, ar.date, sa.seq""",
                (story_id,),
            )
            claims = store.query(
                """SELECT tc.group_id AS claim_id, count(*) AS reports, count(DISTINCT ar.outlet) AS outlets,
                          (SELECT c.text FROM claims c WHERE c.rowid = tc.group_id) AS text,
                          group_concat(DISTINCT ar.outlet) AS outlet_names
                   FROM travelling_claims tc JOIN claims c ON c.rowid = tc.claim_rowid JOIN articles ar ON ar.id = c.article_id
                   WHERE tc.story_id = ? GROUP BY tc.group_id HAVING count(*) >= 2 ORDER BY reports DESC, tc.group_id""",
                (story_id,),
            )
            citations = store.query(
                "SELECT citing, cited, count(*) AS n FROM citations WHERE story_id = ? "
                "GROUP BY citing, cited ORDER BY n DESC, citing",
                (story_id,),
            )
        return {
            **dict(head[0]),
            "items": [dict(r) for r in articles],
            "claims": [dict(r) for r in claims],
            "citations": [dict(r) for r in citations],
        }

    def provenance(self, claim_id: int) -> Row | None:
        """Who reported the claim first, who relayed it, and the citations of its story; None for
        an unknown claim."""
        self.place_stories()
        with self.store() as store:
            if not self._has_stories(store):  # never placed and cannot be: the claim alone, no travel
                rows = store.query("SELECT 1 FROM claims WHERE rowid = ?", (claim_id,))
                if not rows:
                    return None
                store.db.execute("CREATE TEMP TABLE travelling_claims (claim_rowid, story_id, group_id, first)")
                store.db.execute("CREATE TEMP TABLE story_articles (article_id, story_id, similarity, seq)")
                store.db.execute("CREATE TEMP TABLE citations (article_id, attribution_id, story_id, citing, cited)")
            try:
                return story_model.provenance(store, claim_id)
            except ReportedlyError:
                return None

    def provenance_png(self, prov: Row) -> bytes:
        buf = io.BytesIO()
        with _PLOTTING:
            story_model.plot_provenance(prov, buf)
        return buf.getvalue()

    def events(self, actor: str | None, limit: int = 200) -> list[Row]:
        from reportedly.events.extractor import event_lexicon  # the CAMEO class names ship with the lexicon

        labels = event_lexicon().classes
        with self.store() as store:
            rows = query.events(store, actor, limit)
        return [{**r, "cameo_label": labels.get(r["cameo"]) if r["cameo"] else None} for r in rows]

    # -- whole corpus -----------------------------------------------------------------------------
    def profile(self) -> list[Row]:
        with self.store() as store:
            return query.profile(store)

    def search(self, text: str, limit: int = 50) -> list[Row]:
        with self.store() as store:
            return query.search(store, text, limit)

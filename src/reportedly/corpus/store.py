"""The embedded corpus store: one SQLite file.

The schema is managed here and versioned with ``PRAGMA user_version``; opening a file written by
a newer reportedly is refused rather than guessed at. Each article is written in one transaction
together with its attributions, claims, entity links and the input key that produced it, so a
run killed at any moment (even ``kill -9``) leaves only whole articles behind, and a rerun skips
them by key.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reportedly.corpus.rows import (
    ARTICLE_COLUMNS,
    ATTRIBUTION_COLUMNS,
    CLAIM_COLUMNS,
    EVENT_COLUMNS,
    article_row,
    attribution_rows,
    claim_rows,
    event_rows,
)
from reportedly.errors import ReportedlyError
from reportedly.model import Report

SCHEMA_VERSION = 2  # 2: events; every change so far is additive, so older files are upgraded in place

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,            -- sha256 of the article text (first 16 hex)
    origin TEXT NOT NULL,           -- file, file:line or file#record it was read from
    outlet TEXT, url TEXT, title TEXT, author TEXT, date TEXT,
    words INTEGER NOT NULL,
    sentences INTEGER NOT NULL,
    opinion_sentences INTEGER NOT NULL,
    report TEXT NOT NULL,           -- the full Report as JSON (the versioned schema)
    ingested_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_outlet ON articles(outlet);
CREATE TABLE IF NOT EXISTS inputs (
    key TEXT PRIMARY KEY,           -- hash of the raw input
    article_id TEXT,                -- NULL when the input failed
    origin TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    reason TEXT NOT NULL,
    failed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS attributions (
    article_id TEXT NOT NULL REFERENCES articles(id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_text TEXT, cue TEXT, content TEXT NOT NULL,
    source_name TEXT, source_kind TEXT, anonymous INTEGER NOT NULL, source_count INTEGER, descriptor TEXT,
    entity_id INTEGER REFERENCES entities(id),
    parent_id TEXT,
    certainty TEXT,
    PRIMARY KEY (article_id, id)
);
CREATE TABLE IF NOT EXISTS claims (
    rowid INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id),
    id TEXT NOT NULL,
    text TEXT NOT NULL,
    certainty TEXT NOT NULL,
    attribution_id TEXT,
    UNIQUE (article_id, id)
);
CREATE TABLE IF NOT EXISTS entities (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    mentions INTEGER NOT NULL DEFAULT 0,
    articles INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS entity_aliases (
    alias TEXT PRIMARY KEY,         -- kind:normalised form, e.g. person:jeff sessions, person:sessions
    entity_id INTEGER NOT NULL REFERENCES entities(id)
);
CREATE TABLE IF NOT EXISTS article_entities (
    article_id TEXT NOT NULL REFERENCES articles(id),
    local_id TEXT NOT NULL,         -- the entity id inside the article's Report
    entity_id INTEGER NOT NULL REFERENCES entities(id),
    mentions INTEGER NOT NULL,
    PRIMARY KEY (article_id, local_id)
);
CREATE TABLE IF NOT EXISTS claim_entities (
    claim_rowid INTEGER NOT NULL REFERENCES claims(rowid),
    entity_id INTEGER NOT NULL REFERENCES entities(id),
    PRIMARY KEY (claim_rowid, entity_id)
);
CREATE TABLE IF NOT EXISTS events (
    article_id TEXT NOT NULL REFERENCES articles(id),
    id TEXT NOT NULL,
    actor TEXT, predicate TEXT NOT NULL, target TEXT, cameo TEXT, negated INTEGER NOT NULL, tense TEXT,
    certainty TEXT NOT NULL, outlet_certainty TEXT NOT NULL, attribution_id TEXT, same_as TEXT, support TEXT,
    actor_entity INTEGER REFERENCES entities(id),
    target_entity INTEGER REFERENCES entities(id),
    PRIMARY KEY (article_id, id)
);
CREATE INDEX IF NOT EXISTS events_actor ON events(actor_entity);
CREATE VIRTUAL TABLE IF NOT EXISTS claims_fts USING fts5(text, content='claims', content_rowid='rowid');
"""


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


class StoreError(ReportedlyError):
    pass


class Store:
    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: no such corpus database (create one with reportedly ingest)")
        try:
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a reportedly corpus database ({exc})") from exc
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer reportedly (schema {version}, this one knows {SCHEMA_VERSION})")
        if version < SCHEMA_VERSION:
            if not create:
                raise StoreError(f"{self.path}: not a reportedly corpus database")
            with self.db:
                self.db.executescript(_SCHEMA)
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.db:
            yield self.db

    # -- reading -----------------------------------------------------------------------------------
    def seen_keys(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT key FROM inputs")}

    def count(self, table: str) -> int:
        if table not in {"articles", "attributions", "claims", "entities", "failures", "inputs", "events"}:
            raise ValueError(table)
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def report(self, article_id: str) -> Report | None:
        row = self.db.execute("SELECT report FROM articles WHERE id = ?", (article_id,)).fetchone()
        return Report.model_validate_json(row[0]) if row else None

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return list(self.db.execute(sql, params))

    # -- writing -----------------------------------------------------------------------------------
    def add_failure(self, key: str, origin: str, reason: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?)", (key, origin, reason, time.time()))
            self.db.execute("INSERT OR REPLACE INTO inputs VALUES (?, NULL, ?)", (key, origin))

    def add_report(self, key: str, origin: str, report: Report, resolver: Any) -> bool:
        """Store one analysed article atomically; False when the same text is already stored."""
        art = report.article
        with self.db:
            exists = self.db.execute("SELECT 1 FROM articles WHERE id = ?", (art.id,)).fetchone()
            self.db.execute("INSERT OR REPLACE INTO inputs VALUES (?, ?, ?)", (key, art.id, origin))
            self.db.execute("DELETE FROM failures WHERE key = ?", (key,))
            if exists:
                return False
            self._insert(origin, report, resolver)
        return True

    def _insert(self, origin: str, report: Report, resolver: Any) -> None:
        row = article_row(report, origin)
        self.db.execute(
            _insert_sql("articles", (*ARTICLE_COLUMNS, "report", "ingested_at")),
            (*row.values(), report.model_dump_json(), time.time()),
        )
        local_to_corpus = resolver.link(self.db, report)
        source_entity = {s.id: local_to_corpus.get(s.entity_id) for s in report.sources if s.entity_id}
        for a, arow in zip(report.attributions, attribution_rows(report), strict=True):
            self.db.execute(
                _insert_sql("attributions", (*ATTRIBUTION_COLUMNS, "entity_id")),
                (*arow.values(), source_entity.get(a.source_id or "")),
            )
        for ev, erow in zip(report.events, event_rows(report), strict=True):
            self.db.execute(
                _insert_sql("events", (*EVENT_COLUMNS, "actor_entity", "target_entity")),
                (*erow.values(), local_to_corpus.get(ev.actor_entity_id or ""), local_to_corpus.get(ev.target_entity_id or "")),
            )
        mentions = [(m.start, m.end, local_to_corpus.get(e.id)) for e in report.entities for m in e.mentions]
        for c, crow in zip(report.claims, claim_rows(report), strict=True):
            cur = self.db.execute(
                f"INSERT INTO claims ({', '.join(CLAIM_COLUMNS)}) VALUES ({', '.join('?' * len(CLAIM_COLUMNS))})",
                tuple(crow.values()),
            )
            rowid = cur.lastrowid
            self.db.execute("INSERT INTO claims_fts (rowid, text) VALUES (?, ?)", (rowid, crow["text"]))
            about = {eid for s, e, eid in mentions if eid is not None and any(p.start <= s and e <= p.end for p in c.content)}
            self.db.executemany("INSERT OR IGNORE INTO claim_entities VALUES (?, ?)", [(rowid, eid) for eid in about])

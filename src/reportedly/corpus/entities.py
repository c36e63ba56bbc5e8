"""Entities across articles: each article's entities linked to corpus-level entities.

The rule (tested in tests/test_corpus.py):
- names are compared lower-cased, without a leading "the", possessive or surrounding space;
- a person with a full name ("Jeff Sessions") is one entity per full name; the article-level merge
  has already folded "Attorney General Jeff Sessions" and "Sessions" into it;
- a bare last name ("Sessions", in an article that never gives the full name) joins the person
  with that last name seen first in the corpus; if none exists yet it starts an entity that a
  later full name with the same last name takes over (and renames);
- outlets are keyed by their canonical name ("the Washington Post", "The Washington Post" and the
  domain washingtonpost.com are one outlet), and every article's publisher is linked as an outlet,
  so outlets that publish and outlets that are cited meet as one entity;
- other organisations, places and groups are keyed by kind and name.

"First" is input order, never timing: runs one after another and, within a run, the inputs in the
order given (folders sorted, lines and records in file order), whatever the number of workers.
An entity is named as it was first seen (a bare last name's, as the full name that took it
over), and entity ids count up in that order. The Spark runner (scaleout/spark.py) computes the
same entities, ids included, with aggregations over that order.
"""

from __future__ import annotations

import sqlite3

from reportedly import lexicons
from reportedly.model import EntityKind, Report


def normalise(name: str) -> str:
    n = " ".join(name.replace("’", "'").split()).lower()
    n = n.removeprefix("the ")
    for suffix in ("'s", "'"):
        n = n.removesuffix(suffix)
    words = n.split()
    if len(words) > 2:  # "Donald J. Trump" is "Donald Trump": middle initials do not tell people apart
        words = [words[0], *[w for w in words[1:-1] if not (len(w) == 2 and w.endswith("."))], words[-1]]
    return " ".join(words)


def outlet_name(name: str) -> str:
    return lexicons.canonical_outlet(name) or lexicons.outlet_for_domain(name) or name


class CorpusEntities:
    """Links an article's entities to corpus entities inside the caller's transaction."""

    def _find(self, db: sqlite3.Connection, alias: str) -> int | None:
        row = db.execute("SELECT entity_id FROM entity_aliases WHERE alias = ?", (alias,)).fetchone()
        return int(row[0]) if row else None

    def _create(self, db: sqlite3.Connection, name: str, kind: str, aliases: list[str]) -> int:
        cur = db.execute("INSERT INTO entities (name, kind) VALUES (?, ?)", (name, kind))
        eid = int(cur.lastrowid or 0)
        db.executemany("INSERT OR IGNORE INTO entity_aliases VALUES (?, ?)", [(a, eid) for a in aliases])
        return eid

    def resolve(self, db: sqlite3.Connection, name: str, kind: str) -> int:
        norm = normalise(name)
        if kind == EntityKind.outlet.value:
            name = outlet_name(name)
            norm = normalise(name)
        alias = f"{kind}:{norm}"
        found = self._find(db, alias)
        if found is not None:
            return found
        if kind == EntityKind.person.value:
            words = norm.split()
            last = f"person:{words[-1]}" if words else alias
            holder = self._find(db, last)
            if len(words) > 1 and holder is not None:
                held = db.execute("SELECT name FROM entities WHERE id = ?", (holder,)).fetchone()[0]
                if len(held.split()) == 1:  # a bare last name waiting for its full name
                    db.execute("UPDATE entities SET name = ? WHERE id = ?", (name, holder))
                    db.execute("INSERT OR IGNORE INTO entity_aliases VALUES (?, ?)", (alias, holder))
                    return holder
            if len(words) == 1 and holder is not None:
                return holder
            return self._create(db, name, kind, [alias, last])
        return self._create(db, name, kind, [alias])

    def link(self, db: sqlite3.Connection, report: Report) -> dict[str, int]:
        art = report.article
        out: dict[str, int] = {}
        for e in report.entities:
            eid = self.resolve(db, e.name, e.kind.value)
            out[e.id] = eid
            db.execute("INSERT OR REPLACE INTO article_entities VALUES (?, ?, ?, ?)", (art.id, e.id, eid, len(e.mentions)))
            db.execute(
                "UPDATE entities SET mentions = mentions + ?, articles = articles + 1 WHERE id = ?", (len(e.mentions), eid)
            )
        if art.meta.outlet:
            pub = self.resolve(db, art.meta.outlet, EntityKind.outlet.value)
            if pub not in out.values():
                db.execute("INSERT OR REPLACE INTO article_entities VALUES (?, ?, ?, 0)", (art.id, "publisher", pub))
                db.execute("UPDATE entities SET articles = articles + 1 WHERE id = ?", (pub,))
        return out

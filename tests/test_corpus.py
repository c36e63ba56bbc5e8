"""Corpus mode on real parts: real files in real formats, a real SQLite file, real processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES
from reportedly.corpus import query
from reportedly.corpus.export import export
from reportedly.corpus.ingest import ingest
from reportedly.corpus.sources import files, read
from reportedly.corpus.store import Store, StoreError

CORPUS = FIXTURES / "corpus"
CLI = [sys.executable, "-m", "reportedly"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "160"})


def test_readers_yield_items_and_recorded_errors() -> None:
    got = [(Path(i.origin).name, i.error is None) for f in files([CORPUS]) for i in read(f)]
    assert got == [
        ("archive.warc#1", True),
        ("archive.warc#2", False),  # truncated record
        ("articles.jsonl:1", True),
        ("articles.jsonl:2", False),  # not JSON
        ("articles.jsonl:3", False),  # no text field
        ("feed.rss#1", True),
        ("feed.rss#2", False),  # entry without content
        ("plain.txt", True),
    ]
    (warc,) = [i for i in read(CORPUS / "archive.warc") if i.error is None]
    assert warc.meta == {"url": "https://www.dailyledger.example/news/budget", "date": "2024-03-05"}
    (entry,) = [i for i in read(CORPUS / "feed.rss") if i.error is None]
    assert entry.meta["outlet"] == "The Daily Ledger" and entry.meta["date"] == "2024-03-05"


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("corpus") / "corpus.sqlite"
    stats = ingest([CORPUS], db, workers=1)
    assert (stats.stored, stats.failed) == (4, 4)
    return db


def test_failures_are_recorded_and_the_run_goes_on(corpus_db: Path) -> None:
    with Store(corpus_db) as store:
        reasons = {Path(r["origin"]).name: r["reason"] for r in store.query("SELECT origin, reason FROM failures")}
        assert store.count("articles") == 4
    assert set(reasons) == {"archive.warc#2", "articles.jsonl:2", "articles.jsonl:3", "feed.rss#2"}
    assert "malformed" in reasons["archive.warc#2"]
    assert "not JSON" in reasons["articles.jsonl:2"]
    assert "no content" in reasons["feed.rss#2"]


def test_rerun_is_idempotent(corpus_db: Path) -> None:
    stats = ingest([CORPUS], corpus_db, workers=1)
    assert (stats.stored, stats.skipped, stats.failed) == (0, 8, 0)
    with Store(corpus_db) as store:
        assert store.count("articles") == 4 and store.count("failures") == 4


def test_outlets_from_metadata_and_domains(corpus_db: Path) -> None:
    with Store(corpus_db) as store:
        outlets = {r["origin"].split("/")[-1]: r["outlet"] for r in store.query("SELECT origin, outlet FROM articles")}
    assert outlets["archive.warc#1"] == "The Daily Ledger"  # the page's site name
    assert outlets["articles.jsonl:1"] == "The Daily Ledger"  # JSONL metadata
    assert outlets["plain.txt"] is None


def test_queries(corpus_db: Path) -> None:
    with Store(corpus_db) as store:
        rows = query.claims_by(store, "Maria Lopez")
        assert [r["claim"] for r in rows] == ["that the bill would pass", "that two colleagues may change their votes"]
        assert [r["certainty"] for r in rows] == ["certain", "possible"]
        assert query.claims_by(store, "Lopez") == rows  # the bare last name finds the person
        about = query.claims_about(store, "Maria Lopez")
        # mentioned in what officials said (relayed by Reuters), not in what she said herself
        assert [(r["source"], r["anonymous"]) for r in about] == [("Officials", 1)]
        profile = {r["outlet"]: r for r in query.profile(store)}
        ledger = profile["The Daily Ledger"]
        assert ledger["articles"] == 3 and 0 < ledger["anonymous_share"] < 1
        srcs = query.sources(store, "The Daily Ledger")
        assert {"anonymous", "named"} <= {r["named"] for r in srcs}
        hits = query.search(store, "bridge")
        assert hits and all("bridge" in h["claim"].lower() for h in hits)
        odd = query.search(store, 'bridge"(')  # not FTS5 syntax: searched as a plain phrase, no crash
        assert [h["claim"] for h in odd] == [h["claim"] for h in hits]


def test_query_cli_formats_and_plot(corpus_db: Path, tmp_path: Path) -> None:
    out = cli("query", "profile", "--db", str(corpus_db), "-f", "json")
    assert out.returncode == 0, out.stderr
    assert {r["outlet"] for r in json.loads(out.stdout)} == {"The Daily Ledger", "(unknown)"}
    csv_out = cli("query", "claims", "--by", "Lopez", "--db", str(corpus_db), "-f", "csv")
    assert csv_out.stdout.splitlines()[0] == "date,outlet,source,anonymous,certainty,claim,claim_id,article"
    png = tmp_path / "profile.png"
    table = cli("query", "profile", "--db", str(corpus_db), "--plot", str(png))
    assert table.returncode == 0 and "The Daily Ledger" in table.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    missing = cli("query", "profile", "--db", str(tmp_path / "nope.sqlite"))
    assert missing.returncode == 2 and "no such corpus database" in missing.stderr and "Traceback" not in missing.stderr
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    bad = cli("query", "profile", "--db", str(junk))
    assert bad.returncode == 2 and "not a reportedly corpus database" in bad.stderr


def test_export_tables(corpus_db: Path, tmp_path: Path) -> None:
    with Store(corpus_db) as store:
        n_attr = store.count("attributions")
        for fmt in ("jsonl", "csv", "parquet"):
            paths = export(store, fmt, tmp_path / fmt)
            assert set(paths) == {"articles", "attributions", "claims", "entities"}
    assert len((tmp_path / "jsonl" / "attributions.jsonl").read_text(encoding="utf-8").splitlines()) == n_attr
    assert pq.read_table(tmp_path / "parquet" / "attributions.parquet").num_rows == n_attr
    assert (tmp_path / "csv" / "articles.csv").read_text(encoding="utf-8").startswith("id,origin,outlet,url")


def test_entities_merge_across_articles(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    docs = [
        {
            "text": "Attorney General Jeff Sessions said on Monday that he would stay. "
            "Critics said Jeff Sessions had misled the Senate.",
            "url": "https://www.washingtonpost.com/a",
        },
        {"text": "The inquiry into Sessions was over, according to the Washington Post.", "outlet": "Slate"},
        {"text": "Pete Sessions, a Texas congressman, said the vote would be close.", "outlet": "Slate"},
    ]
    (folder / "a.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    db = tmp_path / "c.sqlite"
    ingest([folder], db, workers=1)
    with Store(db) as store:
        people = {r["name"]: r["articles"] for r in store.query("SELECT name, articles FROM entities WHERE kind = 'person'")}
        assert people == {"Jeff Sessions": 2, "Pete Sessions": 1}
        outlets = store.query("SELECT name, articles FROM entities WHERE kind = 'outlet'")
        assert [(r["name"], r["articles"]) for r in outlets if r["name"] == "The Washington Post"] == [("The Washington Post", 2)]
        about = query.claims_about(store, "Jeff Sessions")
        assert len({r["article"] for r in about}) == 2


def _make_corpus(path: Path, n: int) -> None:
    para = (
        "Officials said on {day} that the bridge in district {i} would reopen next week. "
        "“We are confident,” the mayor told reporters, according to the Daily Ledger. "
        "Two engineers who asked not to be named said the repairs may have been rushed. "
    )
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text = " ".join(para.format(day=d, i=i) for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"))
            fh.write(json.dumps({"text": text, "outlet": f"Outlet {i % 3}"}) + "\n")


def test_sigkill_mid_run_then_rerun_stores_each_article_once(tmp_path: Path) -> None:
    n = 80
    src = tmp_path / "many.jsonl"
    _make_corpus(src, n)
    db = tmp_path / "kill.sqlite"
    proc = subprocess.Popen(
        [*CLI, "ingest", str(src), "--db", str(db), "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    stored = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
                    stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if stored >= 10:
                break
    assert proc.poll() is None, "ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Store(db) as store:
        before = store.count("articles")
    assert 10 <= before < n
    rerun = cli("ingest", str(src), "--db", str(db), "--workers", "1")
    assert rerun.returncode == 0, rerun.stderr
    assert f"{before} already stored" in rerun.stderr
    with Store(db) as store:
        assert store.count("articles") == n
        assert store.count("inputs") == n
        # every article whole: its rows match its stored report exactly
        for (article_id,) in store.query("SELECT id FROM articles"):
            report = store.report(article_id)
            assert report is not None
            n_attr = store.query("SELECT count(*) FROM attributions WHERE article_id = ?", (article_id,))[0][0]
            n_claims = store.query("SELECT count(*) FROM claims WHERE article_id = ?", (article_id,))[0][0]
            assert (n_attr, n_claims) == (len(report.attributions), len(report.claims))


def test_parallel_ingest_matches_serial(tmp_path: Path) -> None:
    src = tmp_path / "some.jsonl"
    _make_corpus(src, 12)
    serial, parallel = tmp_path / "s.sqlite", tmp_path / "p.sqlite"
    ingest([src], serial, workers=1)
    ingest([src], parallel, workers=2)
    with Store(serial) as a, Store(parallel) as b:
        q = "SELECT article_id, id, kind, source_name, cue, content FROM attributions ORDER BY article_id, id"
        assert [tuple(r) for r in a.query(q)] == [tuple(r) for r in b.query(q)]


def test_store_refuses_a_newer_schema(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite"
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version=99")
    con.close()
    with pytest.raises(StoreError, match="newer reportedly"):
        Store(db)


def test_parallel_ingest_records_unreadable_inputs(tmp_path: Path) -> None:
    # unreadable inputs are found in the pool's feeder thread; SQLite must still be written from the main one
    db = tmp_path / "par.sqlite"
    stats = ingest([CORPUS], db, workers=2)
    assert (stats.stored, stats.failed) == (4, 4)
    with Store(db) as store:
        assert store.count("failures") == 4 and store.count("articles") == 4

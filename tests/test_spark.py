"""reportedly spark on real parts: Spark in local mode (a real JVM, real Python workers with the
real pipeline), real input files, real Parquet, compared row for row with ingest + export."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pyspark
import pytest
from pyspark.sql import SparkSession

from conftest import FIXTURES
from reportedly.corpus import query
from reportedly.corpus.export import export
from reportedly.corpus.ingest import ingest
from reportedly.corpus.store import Store
from reportedly.scaleout import spark as job

REPO_ROOT = Path(__file__).resolve().parent.parent
POLNEAR = REPO_ROOT.parent / "shared" / "data" / "polnear"
CLI = [sys.executable, "-m", "reportedly"]
TABLES = ("articles", "attributions", "claims", "entities")


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = job.session(
        "local[2]",
        app_name="reportedly-tests",
        # small splits, so that a JSON Lines file is read by several tasks and its lines numbered across them
        conf={"spark.sql.files.maxPartitionBytes": "131072", "spark.ui.showConsoleProgress": "false"},
    )
    yield session
    session.stop()


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = pq.read_table(path).to_pylist()
    return sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r.values()))


def assert_same_tables(exported: Path, spark_out: Path) -> None:
    """export's files against the Spark job's folders: same columns, types and rows."""
    for table in TABLES:
        a, b = pq.read_table(exported / f"{table}.parquet"), pq.read_table(spark_out / f"{table}.parquet")
        assert b.schema.remove_metadata() == a.schema.remove_metadata(), table
        assert _rows(spark_out / f"{table}.parquet") == _rows(exported / f"{table}.parquet"), table


def assert_same_failures(db: Path, spark_out: Path) -> None:
    with Store(db) as store:
        expected = sorted(tuple(r) for r in store.query("SELECT key, origin, reason FROM failures"))
    assert sorted(tuple(r.values()) for r in _rows(spark_out / "failures.parquet")) == expected


def ingest_and_export(inputs: list[Path], db: Path, out: Path, workers: int = 1) -> list[dict[str, Any]]:
    ingest(inputs, db, workers=workers)
    with Store(db) as store:
        export(store, "parquet", out)
        return query.profile(store)


def test_polnear_200_articles_match_ingest_and_export(spark: SparkSession, tmp_path: Path) -> None:
    script = [sys.executable, str(REPO_ROOT / "scripts" / "polnear_to_jsonl.py"), str(POLNEAR)]
    lines = subprocess.run(script, check=True, capture_output=True, text=True).stdout.splitlines()[:200]
    src = tmp_path / "polnear200.jsonl"
    src.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    profile = ingest_and_export([src], tmp_path / "corpus.sqlite", tmp_path / "export", workers=2)
    stats = job.run(spark, [str(src)], str(tmp_path / "spark"))

    assert (stats.seen, stats.stored, stats.failed) == (200, 200, 0)
    assert_same_tables(tmp_path / "export", tmp_path / "spark")
    assert pq.read_table(tmp_path / "spark" / "profile.parquet").to_pylist() == profile
    assert pq.read_table(tmp_path / "spark" / "failures.parquet").num_rows == 0
    origins = {r["origin"] for r in _rows(tmp_path / "spark" / "articles.parquet")}
    assert f"{src}:1" in origins and f"{src}:200" in origins


def _corpus(folder: Path) -> None:
    """The fixture corpus (WARC, feed, text, JSON Lines, each with a broken item) plus a JSON Lines
    file read first, whose bare last names come before the full names that take them over."""
    shutil.copytree(FIXTURES / "corpus", folder)
    docs: list[dict[str, str] | bytes] = [
        {"text": "Mr. Sessions said on Monday that he would not resign.", "outlet": "Slate"},
        {"text": "President Trump said on Monday that the wall would be built.", "outlet": "Slate"},
        {
            "text": "Attorney General Jeff Sessions said on Monday that he would stay. "
            "Critics said Jeff Sessions had misled the Senate.",
            "url": "https://www.washingtonpost.com/a",
        },
        b"",
        {"text": "Pete Sessions, a Texas congressman, said the vote would be close.", "outlet": "Slate"},
        b'{"text": "caf\xe9 is not UTF-8"}',
        {"text": "Donald J. Trump said the wall would be built, the Washington Post reported."},
        {"text": "Donald Trump said on Tuesday that Sessions should resign.", "outlet": "The Washington Post"},
        {"text": "Pete Sessions, a Texas congressman, said the vote would be close.\n\n", "outlet": "Slate"},  # same article
        {"text": "Mr. Sessions said on Monday that he would not resign.", "outlet": "Slate"},  # same input
    ]
    with (folder / "aa first.jsonl").open("wb") as fh:
        for i, d in enumerate(docs):
            line = d if isinstance(d, bytes) else json.dumps(d).encode()
            fh.write(line + (b"\r\n" if i == 6 else b"\n"))
    (folder / "sub").mkdir()
    shutil.copy(FIXTURES / "article.html", folder / "sub" / "odd [1] name.html")


def test_failures_entities_reruns_and_import(spark: SparkSession, tmp_path: Path) -> None:
    folder, out = tmp_path / "in", tmp_path / "spark"
    _corpus(folder)
    db = tmp_path / "corpus.sqlite"
    # one worker: ingest with several workers cannot record reader failures (a separate bug)
    profile = ingest_and_export([folder], db, tmp_path / "export")
    stats = job.run(spark, [str(folder)], str(out))
    assert (stats.seen, stats.skipped, stats.stored, stats.duplicates, stats.failed) == (18, 1, 11, 1, 5)
    assert_same_tables(tmp_path / "export", out)
    assert_same_failures(db, out)
    assert pq.read_table(out / "profile.parquet").to_pylist() == profile
    reasons = {Path(r["origin"]).name: r["reason"] for r in _rows(out / "failures.parquet")}
    assert "not JSON" in reasons["aa first.jsonl:6"] and "utf-8" in reasons["aa first.jsonl:6"]
    assert "malformed" in reasons["archive.warc#2"]
    entities = _rows(out / "entities.parquet")
    # the bare "Sessions" and "Trump" came first; the full names that followed took their entities over
    first = {r["id"]: (r["name"], r["kind"]) for r in entities if r["id"] <= 3}
    assert first[1] == ("Jeff Sessions", "person") and first[3] == ("Donald J. Trump", "person")

    rerun = job.run(spark, [str(folder)], str(out))
    assert (rerun.seen, rerun.skipped, rerun.stored, rerun.failed) == (18, 18, 0, 0)
    assert_same_tables(tmp_path / "export", out)

    # a job that died before recording its inputs is finished by the next run, without duplicates
    shutil.rmtree(out / "inputs.parquet")
    redo = job.run(spark, [str(folder)], str(out))
    assert (redo.stored, redo.duplicates, redo.failed) == (0, 12, 5)
    assert_same_tables(tmp_path / "export", out)
    assert pq.read_table(out / "inputs.parquet").num_rows == 17

    # new input later: both sides add it after what they have, and still agree
    later = {"text": "Mr. Sessions said on Friday that he would stay, the Daily Ledger reported.", "outlet": "Slate"}
    (folder / "zz later.jsonl").write_text(json.dumps(later) + "\n", encoding="utf-8")
    profile = ingest_and_export([folder], db, tmp_path / "export2")
    more = job.run(spark, [str(folder)], str(out))
    assert (more.seen, more.skipped, more.stored) == (19, 18, 1)
    assert_same_tables(tmp_path / "export2", out)
    assert pq.read_table(out / "profile.parquet").to_pylist() == profile

    # imported into SQLite, the Spark output is the database ingest made
    imported = tmp_path / "imported.sqlite"
    got = job.import_output(out, imported)
    assert (got.stored, got.duplicates, got.failed) == (12, 1, 5)
    with Store(imported) as store:
        export(store, "parquet", tmp_path / "export3")
        assert query.claims_by(store, "Sessions") and query.profile(store) == profile
    assert_same_tables(tmp_path / "export2", tmp_path / "export3")
    assert_same_failures(imported, out)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "160"})


def test_cli_and_spark_submit_write_the_same_tables(tmp_path: Path) -> None:
    corpus = str(FIXTURES / "corpus")
    ingest_and_export([Path(corpus)], tmp_path / "corpus.sqlite", tmp_path / "export")

    proc = _cli("spark", corpus, str(tmp_path / "cli"), "--master", "local[1]")
    assert proc.returncode == 0, proc.stderr
    assert "4 stored, 0 duplicates, 0 already stored, 4 failed" in proc.stderr
    assert_same_tables(tmp_path / "export", tmp_path / "cli")

    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    script = REPO_ROOT / "src" / "reportedly" / "scaleout" / "spark_submit.py"
    settings = {**job.LOCAL_CONF, "spark.sql.shuffle.partitions": "2", "spark.ui.showConsoleProgress": "false"}
    conf = [arg for k, v in settings.items() for arg in ("--conf", f"{k}={v}")]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    cmd = [str(submit), "--master", "local[1]", *conf, str(script), corpus, str(tmp_path / "submitted")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "4 stored" in done.stdout
    assert_same_tables(tmp_path / "export", tmp_path / "submitted")

    missing = _cli("spark", str(tmp_path / "nope"), str(tmp_path / "out"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr and "Traceback" not in missing.stderr

"""``reportedly spark``: ``reportedly ingest`` and ``export --format parquet`` as one Apache Spark job.

Reading. The inputs are listed as ingest lists them (``corpus.sources.files``: folders sorted,
recursively). JSON Lines go through Spark's text reader, one line a record, numbered as ingest
numbers them; text and HTML files, WARC archives and feeds are read as whole files. Every record
then goes through the readers of ``corpus/sources.py``, so keys, origins and failure reasons are
ingest's own.

Analysis. Each partition is analysed by ``corpus.ingest._analyse_batch`` (batches of ``BATCH``
through ``nlp.pipe``) with the one pipeline of its Python worker, loaded on the worker's first
partition and kept while Spark reuses the worker; ``corpus/rows.py`` turns each Report into rows.

Output: a folder of Parquet tables, each a folder of part files named like export's files, so
``pyarrow.parquet.read_table(OUT / "claims.parquet")`` reads either.

- ``articles``, ``attributions``, ``claims``: export's tables, columns and types; appended run by run.
- ``entities`` (corpus-level entities) and ``profile`` (``corpus.query.profile``): recomputed from
  all rows on every run, as Spark aggregations.
- ``failures``: key, origin and reason of every input that could not be read or analysed.
- ``inputs``, ``entity_mentions``, ``reports``: what reruns, the entity merge and ``spark-import``
  need (every input's key and order; each article's entities; the full Report JSON).

Reruns. Inputs whose raw-content hash is in ``inputs`` are skipped; articles whose text hash is in
``articles`` count as duplicates, as in ingest. Each table is appended only with rows for keys it
lacks, so a job killed while writing is finished by the next run without duplicate rows.

Order. Ingest links entities in input order (run, then file, then line or record; see
``corpus/entities.py``); every entity mention here carries that order, and ``entities()`` applies
the same rule with aggregations, which gives ingest's entities, names and ids.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DoubleType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
)

from reportedly.corpus.entities import normalise, outlet_name
from reportedly.corpus.export import COLUMNS, INTEGER_COLUMNS
from reportedly.corpus.ingest import IngestStats
from reportedly.corpus.query import profile_row
from reportedly.corpus.rows import (
    ARTICLE_COLUMNS,
    ATTRIBUTION_COLUMNS,
    CLAIM_COLUMNS,
    ENTITY_MENTION_COLUMNS,
    article_row,
    attribution_rows,
    claim_rows,
    entity_mention_rows,
)
from reportedly.corpus.sources import (
    FEED_SUFFIXES,
    JSONL_SUFFIXES,
    RawItem,
    file_item,
    files,
    is_supported,
    jsonl_item,
    read_feed_bytes,
    read_warc_stream,
)
from reportedly.errors import ReportedlyError
from reportedly.model import EntityKind, Report

if TYPE_CHECKING:
    from pyspark import RDD, Broadcast
    from pyspark.sql import Row

# Spark reads a whole file into one byte array, which Java caps just under 2 GiB.
MAX_WHOLE_FILE = 2**31 - 1

# A local run opens nothing reachable from outside: loopback only, no web UI.
LOCAL_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
}
CONF = {
    # the analyser lives in the Python worker: reusing workers keeps the loaded pipeline
    "spark.python.worker.reuse": "true",
}

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")
_GLOB = re.compile(r"([\\*?\[\]{}])")


class SparkJobError(ReportedlyError):
    pass


# -- table schemas ---------------------------------------------------------------------------------
def _struct(fields: Iterable[tuple[str, DataType]]) -> StructType:
    return StructType([StructField(name, kind, True) for name, kind in fields])


def _export_schema(table: str) -> StructType:
    ints = INTEGER_COLUMNS[table]
    return _struct((c, LongType() if c in ints else StringType()) for c in COLUMNS[table])


_MENTION_FIELDS: list[tuple[str, DataType]] = [
    ("local_id", StringType()),
    ("name", StringType()),
    ("kind", StringType()),
    ("mentions", LongType()),
    ("position", LongType()),  # order inside the article; the publisher comes after every entity
    ("publisher", BooleanType()),
    ("alias", StringType()),  # kind:normalised name, the key corpus/entities.py merges on
    ("form", StringType()),  # the name an entity created here would get
    ("last", StringType()),  # persons: the last word of the normalised name
    ("bare", BooleanType()),  # persons: a bare last name (at most one normalised word)
    ("single", BooleanType()),  # the name is one word: a later full name may take its entity over
]
_ORDER: list[tuple[str, DataType]] = [("run", LongType()), ("file_index", LongType()), ("item_no", LongType())]

SCHEMAS: dict[str, StructType] = {
    **{t: _export_schema(t) for t in COLUMNS},
    "profile": _struct(
        [
            ("outlet", StringType()),
            ("articles", LongType()),
            ("words", LongType()),
            ("attributions_per_1000_words", DoubleType()),
            ("anonymous_share", DoubleType()),
            ("hedged_share", DoubleType()),
            ("opinion_share", DoubleType()),
        ]
    ),
    "failures": _struct([("key", StringType()), ("origin", StringType()), ("reason", StringType())]),
    "inputs": _struct([("key", StringType()), ("article_id", StringType()), ("origin", StringType()), *_ORDER]),
    "entity_mentions": _struct([("article_id", StringType()), *_MENTION_FIELDS, *_ORDER]),
    "reports": _struct([("article_id", StringType()), ("report", StringType())]),
}
assert tuple(SCHEMAS["entity_mentions"].fieldNames()[: len(ENTITY_MENTION_COLUMNS)]) == ENTITY_MENTION_COLUMNS

# Tables appended run by run, with the columns that say a row is already there.
APPENDED: dict[str, list[str]] = {
    "attributions": ["article_id"],
    "claims": ["article_id"],
    "entity_mentions": ["article_id"],
    "reports": ["article_id"],
    "articles": ["id"],  # after its rows: an article that can be seen is whole
    "failures": ["key"],
    "inputs": ["key"],  # last: an input counts as done once everything it produced is written
}

_ITEM_SCHEMA = _struct(
    [
        ("key", StringType()),
        ("origin", StringType()),
        ("file_index", LongType()),
        ("item_no", LongType()),
        ("raw", StringType()),
        ("meta", MapType(StringType(), StringType())),
        ("error", StringType()),
    ]
)
_RESULT_SCHEMA = _struct(
    [
        ("key", StringType()),
        ("origin", StringType()),
        ("file_index", LongType()),
        ("item_no", LongType()),
        ("error", StringType()),
        ("article_id", StringType()),
        ("article", SCHEMAS["articles"]),
        ("attributions", ArrayType(SCHEMAS["attributions"])),
        ("claims", ArrayType(SCHEMAS["claims"])),
        ("entities", ArrayType(_struct(_MENTION_FIELDS))),
        ("report", StringType()),
    ]
)


def table_path(output: str, table: str) -> str:
    return f"{output.rstrip('/')}/{table}.parquet"


# -- session ---------------------------------------------------------------------------------------
def java_available() -> bool:
    return bool(os.environ.get("JAVA_HOME")) or shutil.which("java") is not None


def session(master: str | None = None, *, app_name: str = "reportedly", conf: dict[str, str] | None = None) -> SparkSession:
    """A Spark session for reportedly; ``master`` None keeps what spark-submit set."""
    builder = SparkSession.builder.appName(app_name)
    settings = dict(CONF)
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            threads = re.fullmatch(r"local\[(\d+)(,\d+)?\]", master)
            cores = int(threads.group(1)) if threads else 1 if master == "local" else os.cpu_count() or 1
            # Spark's 200 shuffle partitions suit a cluster; on one machine each costs more than it shares
            settings |= LOCAL_CONF | {"spark.sql.shuffle.partitions": str(2 * cores)}
            # PySpark starts its workers with $PYSPARK_PYTHON, else whatever python3 is on PATH,
            # which need not have reportedly installed (spark.pyspark.python is not read here)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in (settings | (conf or {})).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


# -- listing ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputFile:
    index: int  # position in the input order
    name: str  # as ingest names it in origins
    uri: str  # as Spark reads it
    key: str  # the path Spark reports for it, decoded (see _path_key)
    kind: str  # jsonl, warc, feed or file
    error: str | None = None  # unreadable: recorded as a failure without Spark reading it


def _kind(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".warc") or lower.endswith(".warc.gz"):
        return "warc"
    suffix = PurePosixPath(lower).suffix
    return "jsonl" if suffix in JSONL_SUFFIXES else "feed" if suffix in FEED_SUFFIXES else "file"


def _path_key(path: str) -> str:
    """Spark reports files URL-encoded (file:/a%20b.txt); the driver names them decoded (/a b.txt)."""
    p = unquote(path)
    return "/" + p[len("file:") :].lstrip("/") if p.startswith("file:") else p


def _escape(path: str) -> str:
    """Spark reads paths as glob patterns: a file named a[1].txt must be asked for literally."""
    return _GLOB.sub(r"\\\1", path)


def _local_error(path: str, kind: str) -> str | None:
    try:
        with open(path, "rb"):
            size = os.path.getsize(path)
    except OSError as exc:  # the message ingest's reader gives for the same file
        return f"cannot read: {exc.strerror or exc}"
    if kind != "jsonl" and size > MAX_WHOLE_FILE:
        return "cannot read: over 2 GiB, the most Spark reads as one file; split it"
    return None


def _list_remote(spark: SparkSession, spec: str) -> list[tuple[str, str]]:
    """(name, key) of the files under a URI Spark can list (hdfs://, s3a://, file:/), in ingest's order."""
    try:
        listing = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(spec)
        found = {unquote(r.p) for r in listing.select(F.col("_metadata.file_path").alias("p")).collect()}
    except AnalysisException as exc:
        raise SparkJobError(f"{spec}: {exc}") from exc
    names = sorted(found, key=lambda n: PurePosixPath(_path_key(n)))
    if names == [n for n in names if _path_key(n) == _path_key(spec)]:
        return [(n, _path_key(n)) for n in names]  # the file named itself, whatever its suffix
    return [(n, _path_key(n)) for n in names if is_supported(Path(PurePosixPath(_path_key(n)).name))]


def list_inputs(spark: SparkSession, inputs: list[str]) -> list[InputFile]:
    out: list[InputFile] = []
    seen: set[str] = set()
    for spec in inputs:
        if _URI.match(spec):
            for name, key in _list_remote(spark, spec):
                if key not in seen:
                    seen.add(key)
                    out.append(InputFile(len(out), name, _escape(name), key, _kind(name)))
            continue
        for f in files([Path(spec)]):
            name, key = str(f), os.path.abspath(f)
            # a file named twice gives ingest nothing new (its keys are seen): read it once
            if key in seen:
                continue
            seen.add(key)
            kind = _kind(name)
            out.append(InputFile(len(out), name, _escape("file://" + key), key, kind, _local_error(key, kind)))
    return out


# -- reading ---------------------------------------------------------------------------------------
Item = tuple[str, str, int, int, str | None, dict[str, str], str | None]


def _item(item: RawItem, index: int, n: int) -> Item:
    return (item.key, item.origin, index, n, item.raw, item.meta, item.error)


def _lines_before(blocks: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """For each (file, split start): how many lines the file has before that split."""
    out: dict[tuple[str, int], int] = {}
    total: dict[str, int] = {}
    for path, start in sorted(blocks):
        out[(path, start)] = total.get(path, 0)
        total[path] = total.get(path, 0) + blocks[(path, start)]
    return out


def _jsonl_items(
    rows: Iterable[Row], listed: Broadcast[dict[str, tuple[int, str, str]]], before: Broadcast[dict[tuple[str, int], int]]
) -> Iterator[Item]:
    # A split is read by one task, front to back: a line's number is the lines of the file's
    # earlier splits plus its place in this split.
    lookup, first = listed.value, before.value
    seen: dict[tuple[str, int], int] = {}
    for r in rows:
        block = (r.path, r.start)
        seen[block] = seen.get(block, 0) + 1
        n = first[block] + seen[block]
        index, name, _ = lookup[_path_key(r.path)]
        item = jsonl_item(name, n, bytes(r.line))
        if item is not None:
            yield _item(item, index, n)


def _file_items(rows: Iterable[Row], listed: Broadcast[dict[str, tuple[int, str, str]]], encoding: str | None) -> Iterator[Item]:
    lookup = listed.value
    for r in rows:
        index, name, kind = lookup[_path_key(r.path)]
        data = bytes(r.content)
        if kind == "warc":
            items: Iterable[RawItem] = read_warc_stream(BytesIO(data), name)
        elif kind == "feed":
            items = read_feed_bytes(data, name)
        else:
            items = [file_item(name, data, encoding=encoding)]
        for n, item in enumerate(items):
            yield _item(item, index, n)


def read_items(spark: SparkSession, listed: list[InputFile], encoding: str | None = None) -> DataFrame:
    """Every raw item of the inputs: key, origin, file_index, item_no, raw, meta, error."""
    sc = spark.sparkContext
    lookup = sc.broadcast({f.key: (f.index, f.name, f.kind) for f in listed if f.error is None})
    parts: list[RDD[Item]] = []
    jsonl = [f.uri for f in listed if f.kind == "jsonl" and f.error is None]
    if jsonl:
        lines = (
            spark.read.option("lineSep", "\n")  # as Python reads lines: a lone \r does not end one
            .text(jsonl)
            .select(
                F.col("_metadata.file_path").alias("path"),
                F.col("_metadata.file_block_start").alias("start"),
                F.col("value").cast("binary").alias("line"),  # the bytes as written, for json.loads to judge
            )
        )
        blocks = {(r.path, int(r.start)): int(r["count"]) for r in lines.groupBy("path", "start").count().collect()}
        before = sc.broadcast(_lines_before(blocks))
        parts.append(lines.rdd.mapPartitions(partial(_jsonl_items, listed=lookup, before=before)))
    whole = [f.uri for f in listed if f.kind != "jsonl" and f.error is None]
    if whole:
        blobs = spark.read.format("binaryFile").load(whole).select(F.col("_metadata.file_path").alias("path"), "content")
        parts.append(blobs.rdd.mapPartitions(partial(_file_items, listed=lookup, encoding=encoding)))
    unreadable = [_item(RawItem(f.name, error=f.error), f.index, 0) for f in listed if f.error is not None]
    if unreadable:
        parts.append(sc.parallelize(unreadable, 1))
    if not parts:
        return spark.createDataFrame([], _ITEM_SCHEMA)
    return spark.createDataFrame(sc.union(parts), _ITEM_SCHEMA, verifySchema=False)


# -- analysis --------------------------------------------------------------------------------------
def mention_keys(name: str, kind: str) -> tuple[str, str, str | None, bool, bool]:
    """alias, form, last, bare, single of one entity mention, as CorpusEntities.resolve sees it."""
    norm = normalise(name)
    form = name
    if kind == EntityKind.outlet.value:
        form = outlet_name(name)
        norm = normalise(form)
    single = len(form.split()) == 1
    if kind != EntityKind.person.value:
        return f"{kind}:{norm}", form, None, False, single
    words = norm.split()
    return f"{kind}:{norm}", form, words[-1] if words else "", len(words) <= 1, single


def _mentions(report: Report) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        (e["local_id"], e["name"], e["kind"], e["mentions"], i, False, *mention_keys(e["name"], e["kind"]))
        for i, e in enumerate(entity_mention_rows(report))
    ]
    outlet = report.article.meta.outlet
    if outlet:  # ingest links every article to its publisher, after the article's own entities
        rows.append(("publisher", outlet, EntityKind.outlet.value, 0, len(rows), True, *mention_keys(outlet, "outlet")))
    return rows


def _analyse(batch: list[Row]) -> Iterator[tuple[Any, ...]]:
    from reportedly.corpus.ingest import _analyse_batch

    by_key = {r.key: r for r in batch}
    for key, origin, report_json, error in _analyse_batch([(r.key, r.origin, r.raw, dict(r.meta or {})) for r in batch]):
        r = by_key[key]
        if report_json is None:
            yield (key, origin, r.file_index, r.item_no, error or "unknown error", None, None, None, None, None, None)
            continue
        report = Report.model_validate_json(report_json)
        art = article_row(report, origin)
        yield (
            key,
            origin,
            r.file_index,
            r.item_no,
            None,
            report.article.id,
            tuple(art[c] for c in ARTICLE_COLUMNS),
            [tuple(a[c] for c in ATTRIBUTION_COLUMNS) for a in attribution_rows(report)],
            [tuple(c[k] for k in CLAIM_COLUMNS) for c in claim_rows(report)],
            _mentions(report),
            report_json,
        )


def _analyse_partition(rows: Iterable[Row]) -> Iterator[tuple[Any, ...]]:
    from reportedly.corpus.ingest import BATCH

    batch: list[Row] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= BATCH:
            yield from _analyse(batch)
            batch = []
    if batch:
        yield from _analyse(batch)


# -- corpus-level tables ---------------------------------------------------------------------------
def entities(mentions: DataFrame) -> DataFrame:
    """Corpus entities (id, name, kind, mentions, articles) from entity_mentions, by the rule of
    corpus/entities.py, as ingest would have linked the same articles one by one in input order.

    - Every mention has an alias (kind:normalised name); all but bare last names are merged by it.
    - A bare last name L joins F1, the full name ending in L that appears first, when F1 came
      before the first bare L (ingest: F1 holds the alias of L), or when that first bare L was one
      word (ingest: F1 renames the entity the bare name started); otherwise the bare names keep
      an entity of their own.
    - Ingest creates an entity at its first mention and names it there, except that a bare name's
      entity taken over by F1 gets F1's name: ids follow the first mention, names the first mention
      that is not a bare last name.
    - ``articles`` counts links: one per article entity, plus the publisher unless one of the
      article's own entities is already that outlet.
    """
    m = mentions.withColumn("o", F.struct("run", "file_index", "item_no", "position"))
    cited = m.filter(~F.col("publisher")).select("article_id", "alias").distinct().withColumn("cited", F.lit(True))
    m = m.join(cited, ["article_id", "alias"], "left").withColumn(
        "linked", F.when(F.col("publisher") & F.col("cited").isNotNull(), 0).otherwise(1)
    )
    person = F.col("kind") == EntityKind.person.value
    first_full = (
        m.filter(person & ~F.col("bare"))
        .groupBy("alias", "last")
        .agg(F.min("o").alias("fo"))
        .groupBy("last")
        .agg(F.min(F.struct("fo", "alias")).alias("f1"))
    )
    first_bare = m.filter(person & F.col("bare")).groupBy("last").agg(F.min(F.struct("o", "single")).alias("e0"))
    joins = first_bare.join(first_full, "last", "left").select(
        "last",
        F.when(
            F.col("f1").isNotNull() & ((F.col("f1.fo") < F.col("e0.o")) | F.col("e0.single")),
            F.col("f1.alias"),
        ).alias("joins"),
    )
    m = m.join(joins, "last", "left").withColumn(
        "entity", F.when(F.col("bare") & F.col("joins").isNotNull(), F.col("joins")).otherwise(F.col("alias"))
    )
    merged = m.groupBy("entity").agg(
        F.min("o").alias("created"),
        F.min(F.struct("bare", "o", "form")).alias("namer"),
        F.min("kind").alias("kind"),
        F.sum("mentions").alias("mentions"),
        F.sum("linked").cast("long").alias("articles"),
    )
    ordered = merged.select("created", F.col("namer.form").alias("name"), "kind", "mentions", "articles").orderBy("created")
    numbered = ordered.rdd.zipWithIndex().map(lambda ri: (ri[1] + 1, ri[0].name, ri[0].kind, ri[0].mentions, ri[0].articles))
    return mentions.sparkSession.createDataFrame(numbered, SCHEMAS["entities"])


def profile(articles: DataFrame, attributions: DataFrame, claims: DataFrame) -> DataFrame:
    """``corpus.query.profile`` over the tables: sums per outlet in Spark, one row per outlet after."""
    arts = articles.select(
        F.coalesce("outlet", F.lit("(unknown)")).alias("outlet"), "id", "words", "sentences", "opinion_sentences"
    )
    outlet_of = arts.select(F.col("id").alias("article_id"), "outlet")
    base = arts.groupBy("outlet").agg(
        F.count("*").alias("articles"),
        F.sum("words").alias("words"),
        F.sum("sentences").alias("sentences"),
        F.sum("opinion_sentences").alias("opinion"),
    )
    attr = (
        attributions.join(outlet_of, "article_id")
        .groupBy("outlet")
        .agg(F.count("*").alias("attributions"), F.sum("anonymous").alias("anonymous"))
    )
    hedged = F.when(F.col("certainty") != "certain", 1).otherwise(0)
    claim = (
        claims.join(outlet_of, "article_id").groupBy("outlet").agg(F.count("*").alias("claims"), F.sum(hedged).alias("hedged"))
    )
    sums = base.join(attr, "outlet", "left").join(claim, "outlet", "left").collect()  # one row per outlet
    aggs = {r.outlet: {k: v for k, v in r.asDict().items() if v is not None} for r in sums}
    rows = [profile_row(outlet, aggs[outlet]) for outlet in sorted(aggs)]
    return articles.sparkSession.createDataFrame([tuple(r.values()) for r in rows], SCHEMAS["profile"]).coalesce(1)


# -- the job ---------------------------------------------------------------------------------------
@dataclass
class SparkStats(IngestStats):
    partitions: int = 0
    seconds: float = 0.0


def _exists(spark: SparkSession, path: str) -> bool:
    if not _URI.match(path) or path.startswith("file:"):
        return os.path.exists(_path_key(path))
    # Spark logs a stack trace for every missing path it is asked to read: ask Hadoop first
    jvm, jsc = spark.sparkContext._jvm, spark.sparkContext._jsc
    assert jvm is not None and jsc is not None
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return bool(hpath.getFileSystem(jsc.hadoopConfiguration()).exists(hpath))


def summary(stats: SparkStats, output: str) -> str:
    """One line, as ``reportedly ingest`` reports a run."""
    seconds = max(stats.seconds, 1e-9)
    analysed = stats.stored + stats.duplicates
    return (
        f"{stats.stored} stored, {stats.duplicates} duplicates, {stats.skipped} already stored, {stats.failed} failed; "
        f"{analysed / seconds:.2f} articles/s, {stats.words / seconds:,.0f} words/s over {stats.seconds:.1f} s "
        f"in {stats.partitions} partitions -> {output}"
    )


def read_table(spark: SparkSession, output: str, table: str) -> DataFrame | None:
    path = table_path(output, table)
    if not _exists(spark, path):
        return None
    try:
        return spark.read.schema(SCHEMAS[table]).parquet(path)
    except AnalysisException:  # not written yet
        return None


def _append(spark: SparkSession, df: DataFrame, output: str, table: str, *, empty: bool) -> None:
    """Append the rows of ``df`` that ``table`` lacks; ``empty`` says ``df`` has no rows at all."""
    existing = read_table(spark, output, table)
    if existing is not None and empty:
        return
    if existing is not None:
        keys = APPENDED[table]
        df = df.join(existing.select(*keys).distinct(), keys, "left_anti")
    # an empty first write still creates the table, so that readers find every table
    df.select(*SCHEMAS[table].fieldNames()).write.mode("append").parquet(table_path(output, table))


def _first(df: DataFrame, column: str) -> DataFrame:
    """The first row (in input order) of each value of ``column``."""
    w = Window.partitionBy(column).orderBy("file_index", "item_no")
    return df.withColumn("_n", F.row_number().over(w)).filter(F.col("_n") == 1).drop("_n")


def run(
    spark: SparkSession,
    inputs: list[str],
    output: str,
    *,
    partitions: int | None = None,
    encoding: str | None = None,
    reports: bool = True,
) -> SparkStats:
    """Analyse ``inputs`` (files, folders, URIs) into the Parquet tables under ``output``."""
    started = time.perf_counter()
    stats = SparkStats()
    sc = spark.sparkContext
    done = read_table(spark, output, "inputs")
    last = None if done is None else done.agg(F.max("run")).first()
    run_no = int((last[0] if last else None) or 0) + 1
    items = read_items(spark, list_inputs(spark, inputs), encoding).persist(StorageLevel.MEMORY_AND_DISK)
    stats.seen = items.count()
    todo = items if done is None else items.join(done.select("key"), "key", "left_anti")
    todo = _first(todo, "key").persist(StorageLevel.MEMORY_AND_DISK)  # ingest reads a repeated input once
    n_todo = todo.count()
    stats.skipped = stats.seen - n_todo
    items.unpersist()

    readable = todo.filter(F.col("error").isNull())
    n_readable = readable.count()
    stats.partitions = partitions or max(2 * sc.defaultParallelism, math.ceil(n_readable / 500))
    # rows built here to the schema: checking every nested row again would only cost worker time
    analysed = spark.createDataFrame(
        readable.repartition(stats.partitions).rdd.mapPartitions(_analyse_partition), _RESULT_SCHEMA, verifySchema=False
    ).persist(StorageLevel.MEMORY_AND_DISK)
    failed = todo.filter(F.col("error").isNotNull()).select("key", "origin", "file_index", "item_no", "error")
    failed = failed.unionByName(analysed.filter(F.col("error").isNotNull()).select(*failed.columns))

    stored = _first(analysed.filter(F.col("error").isNull()), "article_id")
    known = read_table(spark, output, "articles")
    if known is not None:
        stored = stored.join(known.select(F.col("id").alias("article_id")), "article_id", "left_anti")
    stored = stored.persist(StorageLevel.MEMORY_AND_DISK)
    stats.stored = stored.count()
    stats.failed = failed.count()
    stats.duplicates = n_todo - stats.failed - stats.stored
    words = stored.agg(F.sum("article.words")).first()
    stats.words = int((words[0] if words else None) or 0)

    run_col = F.lit(run_no).cast("long").alias("run")
    tables = {
        "attributions": stored.select(F.explode("attributions").alias("r")).select("r.*"),
        "claims": stored.select(F.explode("claims").alias("r")).select("r.*"),
        "entity_mentions": stored.select("article_id", F.explode("entities").alias("r"), "file_index", "item_no").select(
            "article_id", "r.*", run_col, "file_index", "item_no"
        ),
        "reports": stored.select("article_id", "report"),
        "articles": stored.select("article.*"),
        "failures": failed.select("key", "origin", F.col("error").alias("reason")),
        "inputs": analysed.select("key", "article_id", "origin", "file_index", "item_no")
        .unionByName(failed.select("key", F.lit(None).cast("string").alias("article_id"), "origin", "file_index", "item_no"))
        .dropDuplicates(["key"])  # an analysis failure is in both
        .select("key", "article_id", "origin", run_col, "file_index", "item_no"),
    }
    for table in APPENDED:
        if table == "reports" and not reports:
            continue
        empty = {"failures": stats.failed, "inputs": n_todo}.get(table, stats.stored) == 0
        _append(spark, tables[table], output, table, empty=empty)

    write_corpus_tables(spark, output)
    for df in (todo, analysed, stored):
        df.unpersist()
    stats.seconds = time.perf_counter() - started
    return stats


def write_corpus_tables(spark: SparkSession, output: str) -> None:
    """(Re)compute entities and profile from every row under ``output``."""
    got = {t: read_table(spark, output, t) for t in ("entity_mentions", "articles", "attributions", "claims")}
    mentions, articles, attributions, claims = (got[t] for t in ("entity_mentions", "articles", "attributions", "claims"))
    if mentions is None or articles is None or attributions is None or claims is None:
        raise SparkJobError(f"{output}: not a reportedly Spark output (tables missing)")
    entities(mentions).orderBy("id").write.mode("overwrite").parquet(table_path(output, "entities"))
    profile(articles, attributions, claims).write.mode("overwrite").parquet(table_path(output, "profile"))


# -- into SQLite -----------------------------------------------------------------------------------
@dataclass
class ImportStats:
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    skipped: int = 0


def import_output(output: Path, db: Path) -> ImportStats:
    """Load a Spark output into a corpus database, as if ``reportedly ingest`` had read the same
    inputs in the same runs: then every ``reportedly query`` works on it. Needs the reports table
    (written unless --no-reports) and, like the database, one machine's memory."""
    import pyarrow.parquet as pq

    from reportedly.corpus.entities import CorpusEntities
    from reportedly.corpus.store import Store

    def table(name: str) -> list[dict[str, Any]]:
        path = output / f"{name}.parquet"
        if not path.exists():
            raise SparkJobError(f"{path}: missing; is {output} the output of reportedly spark (with its reports)?")
        return list(pq.read_table(path).to_pylist())

    inputs = sorted(table("inputs"), key=lambda r: (r["run"], r["file_index"], r["item_no"]))
    reasons = {r["key"]: r["reason"] for r in table("failures")}
    reports = {r["article_id"]: r["report"] for r in table("reports")}
    stats = ImportStats()
    linker = CorpusEntities()
    with Store(db) as store:
        seen = store.seen_keys()
        for r in inputs:
            if r["key"] in seen:
                stats.skipped += 1
                continue
            if r["article_id"] is None:
                store.add_failure(r["key"], r["origin"], reasons.get(r["key"], "unknown error"))
                stats.failed += 1
            elif store.add_report(r["key"], r["origin"], Report.model_validate_json(reports[r["article_id"]]), linker):
                stats.stored += 1
            else:
                stats.duplicates += 1
    return stats

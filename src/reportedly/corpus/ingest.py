"""``reportedly ingest``: read, analyse and store a corpus on every core.

The parent process reads inputs, skips those already stored (by the hash of the raw input) and
writes results; worker processes each load one spaCy pipeline (once, in the pool initialiser)
and analyse batches with ``nlp.pipe``. Only the parent writes to SQLite, one transaction per
article, so killing the run at any moment loses nothing that was committed and a rerun finishes
the rest.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from reportedly.corpus.entities import CorpusEntities
from reportedly.corpus.sources import RawItem, files, read
from reportedly.corpus.store import Store
from reportedly.errors import ReportedlyError

BATCH = 16


@dataclass
class IngestStats:
    seen: int = 0
    skipped: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    words: int = 0


_MODEL = ["fast"]  # the attribution model of this process (set in each worker by _warm)


def _analyse_batch(batch: list[tuple[str, str, str, dict[str, str]]]) -> list[tuple[str, str, str | None, str | None]]:
    """Worker: (key, origin, raw, meta) -> (key, origin, report JSON or None, error or None)."""
    from reportedly import get_analyzer
    from reportedly.ingest import make_article

    analyzer = get_analyzer(_MODEL[0])
    out: list[tuple[str, str, str | None, str | None]] = []
    articles = []
    for key, origin, raw, meta in batch:
        try:
            art = make_article(raw, url=meta.get("url"), outlet=meta.get("outlet"), name=origin)
        except ReportedlyError as exc:
            out.append((key, origin, None, str(exc)))
            continue
        for field in ("title", "author", "date"):
            if meta.get(field) and not getattr(art.meta, field):
                setattr(art.meta, field, meta[field])
        articles.append((key, origin, art))
    try:
        for (key, origin, _), report in zip(articles, analyzer.analyze_many(a for _, _, a in articles), strict=True):
            out.append((key, origin, report.model_dump_json(), None))
    except Exception:  # one bad document must not take its batch down: redo the batch one by one
        done = {o[0] for o in out}
        for key, origin, art in articles:
            if key in done:
                continue
            try:
                out.append((key, origin, analyzer.analyze(art).model_dump_json(), None))
            except Exception as exc:
                out.append((key, origin, None, f"analysis failed: {type(exc).__name__}: {exc}"))
    return out


def _warm(model: str = "fast") -> None:
    from reportedly import get_analyzer

    _MODEL[0] = model
    get_analyzer(model)


def items(paths: Iterable[Path], encoding: str | None = None) -> Iterator[RawItem]:
    for f in files(list(paths)):
        yield from read(f, encoding=encoding)


def _batches(
    it: Iterator[RawItem], failures: deque[tuple[str, str, str]], stats: IngestStats, seen: set[str]
) -> Iterator[list[tuple[str, str, str, dict[str, str]]]]:
    """Batches for the workers. Runs in the pool's feeder thread with several workers, so it only
    queues unreadable inputs: SQLite connections belong to the thread that made them."""
    batch: list[tuple[str, str, str, dict[str, str]]] = []
    for item in it:
        stats.seen += 1
        key = item.key
        if key in seen:
            stats.skipped += 1
            continue
        seen.add(key)
        if item.error is not None or item.raw is None:
            failures.append((key, item.origin, item.error or "no content"))
            continue
        batch.append((key, item.origin, item.raw, item.meta))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest(
    paths: list[Path],
    db: Path,
    *,
    workers: int | None = None,
    encoding: str | None = None,
    progress: Callable[[IngestStats], None] | None = None,
    model: str = "fast",
) -> IngestStats:
    """Analyse ``paths`` into the store at ``db`` with ``workers`` processes; ``model`` is the
    attribution extractor (``fast``, ``accurate`` or ``rules``)."""
    from reportedly.model import Report

    workers = workers or os.cpu_count() or 1
    from reportedly.pipeline.analyzer import check_model

    check_model(model)
    _MODEL[0] = model
    stats = IngestStats()
    entities = CorpusEntities()
    with Store(db) as store:
        seen = store.seen_keys()
        unreadable: deque[tuple[str, str, str]] = deque()
        batches = _batches(items(paths, encoding), unreadable, stats, seen)

        def flush_unreadable() -> None:
            while unreadable:
                key, origin, reason = unreadable.popleft()
                store.add_failure(key, origin, reason)
                stats.failed += 1

        def handle(results: list[tuple[str, str, str | None, str | None]]) -> None:
            flush_unreadable()
            for key, origin, report_json, error in results:
                if error is not None or report_json is None:
                    store.add_failure(key, origin, error or "unknown error")
                    stats.failed += 1
                    continue
                report = Report.model_validate_json(report_json)
                if store.add_report(key, origin, report, entities):
                    stats.stored += 1
                    stats.words += len(report.article.text.split())
                else:
                    stats.duplicates += 1
            if progress is not None:
                progress(stats)

        if workers <= 1:
            for batch in batches:
                handle(_analyse_batch(batch))
        else:
            # spawn, not fork: a forked copy of a parent holding SQLite and thread pools is fragile
            ctx = get_context("spawn")
            with ctx.Pool(workers, initializer=_warm, initargs=(model,)) as pool:
                # in input order, not completion order: cross-article entities are named and numbered by
                # the article that mentions them first, so the store must not depend on worker timing
                for results in pool.imap(_analyse_batch, batches):
                    handle(results)
        flush_unreadable()
        if progress is not None:
            progress(stats)
    return stats


def count_items(paths: list[Path]) -> int | None:
    """A cheap upper bound for the progress bar: files, plus lines of JSONL files; None for archives."""
    total = 0
    for f in files(paths):
        name = f.name.lower()
        if name.endswith((".jsonl", ".ndjson")):
            with f.open("rb") as fh:
                total += sum(1 for line in fh if line.strip())
        elif name.endswith((".warc", ".warc.gz", ".rss", ".atom", ".xml")):
            return None
        else:
            total += 1
    return total

"""Throughput of the full reportedly analysis against the bare spaCy pipeline, on the same texts.

Both pipelines are loaded first (untimed) and warmed up on a few texts; then, for ``--repeat``
rounds, the bare ``nlp.pipe`` pass and the full ``Analyzer.analyze_many`` pass are timed in
alternation, one batch of texts at a time (``--batch-size`` texts: each pipeline sees the batches
it would see in one pass; which goes first flips every batch and every round). Words are
whitespace-separated words of the texts both passes see (the cleaned ``Article.text``).

Two ratios come out of the same timings. ``ratio``: the best whole pass of each (the sum of its
batches in one round), as this benchmark has always reported. ``ratio_paired``: per batch the best
time of each over the rounds, summed. On a shared machine whose speed drifts by a third from
minute to minute (this project's two-core build machines), the whole passes of the two pipelines
need not get an equally quiet round; batches timed a few seconds apart see the same machine. A
slow spell longer than a run still shows in both. Both are printed; the target is judged on both.

    python bench/throughput.py                                   # PolNeAR dev texts
    python bench/throughput.py --texts src/reportedly/examples --limit 3
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from reportedly.errors import InputError
from reportedly.ingest import read_string
from reportedly.model import Article
from reportedly.pipeline.analyzer import Analyzer
from reportedly.pipeline.nlp import load_bare, load_nlp, pipeline_label

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEXTS = REPO_ROOT.parent / "shared" / "data" / "polnear" / "dev" / "text"
TARGET_RATIO = 0.8
WARMUP_TEXTS = 3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--texts",
        default=str(DEFAULT_TEXTS),
        help="a folder of .txt files, one .txt file, or a glob pattern (default: PolNeAR dev texts)",
    )
    parser.add_argument("--limit", type=int, default=None, help="use only the first N texts, sorted by name")
    parser.add_argument("--repeat", type=int, default=1, help="timed rounds of each pipeline; the best is kept (default 1)")
    parser.add_argument("--batch-size", type=int, default=32, help="nlp.pipe batch size for both pipelines (default 32)")
    parser.add_argument(
        "--model", default="fast", choices=("fast", "accurate", "rules"), help="attribution extractor (default fast)"
    )
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    return args


def find_texts(spec: str) -> list[Path]:
    path = Path(spec)
    if path.is_dir():
        return sorted(p for p in path.glob("*.txt") if p.is_file())
    if path.is_file():
        return [path]
    return sorted(p for p in (Path(m) for m in glob.glob(spec, recursive=True)) if p.is_file() and p.suffix == ".txt")


def load_articles(paths: list[Path]) -> tuple[list[Article], list[str]]:
    articles: list[Article] = []
    skipped: list[str] = []
    for path in paths:
        try:
            articles.append(read_string(path.read_text(encoding="utf-8")))
        except (InputError, UnicodeDecodeError) as exc:
            skipped.append(f"{path.name}: {exc}")
    return articles, skipped


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def run(args: argparse.Namespace) -> dict[str, Any]:
    paths = find_texts(args.texts)
    if args.limit is not None:
        paths = paths[: args.limit]
    articles, skipped = load_articles(paths)
    if not articles:
        raise SystemExit(f"throughput: no usable .txt texts found for {args.texts!r}")
    texts = [a.text for a in articles]
    words = sum(len(t.split()) for t in texts)

    bare = load_bare()
    analyzer = Analyzer(args.model, nlp=load_nlp(), batch_size=args.batch_size)
    batch = args.batch_size

    chunks = [(lo, min(lo + batch, len(texts))) for lo in range(0, len(texts), batch)]

    def run_bare(lo: int, hi: int) -> Callable[[], object]:
        return lambda: list(bare.pipe(texts[lo:hi], batch_size=batch))

    def run_full(lo: int, hi: int) -> Callable[[], object]:
        return lambda: list(analyzer.analyze_many(articles[lo:hi]))

    list(bare.pipe(texts[:WARMUP_TEXTS], batch_size=batch))
    list(analyzer.analyze_many(articles[:WARMUP_TEXTS]))

    # bare_chunks[r][c]: round r, batch c.
    bare_chunks: list[list[float]] = []
    full_chunks: list[list[float]] = []
    for r in range(args.repeat):
        bare_chunks.append([])
        full_chunks.append([])
        for c, (lo, hi) in enumerate(chunks):
            if (r + c) % 2 == 0:
                bare_chunks[r].append(timed(run_bare(lo, hi)))
                full_chunks[r].append(timed(run_full(lo, hi)))
            else:
                full_chunks[r].append(timed(run_full(lo, hi)))
                bare_chunks[r].append(timed(run_bare(lo, hi)))
        print(
            f"round {r + 1}/{args.repeat}: bare {sum(bare_chunks[r]):.2f} s, full {sum(full_chunks[r]):.2f} s",
            file=sys.stderr,
        )

    bare_times = [sum(x) for x in bare_chunks]
    full_times = [sum(x) for x in full_chunks]
    bare_best, full_best = min(bare_times), min(full_times)
    bare_wps, full_wps = words / bare_best, words / full_best
    ratio = full_wps / bare_wps
    bare_paired = sum(min(x[c] for x in bare_chunks) for c in range(len(chunks)))
    full_paired = sum(min(x[c] for x in full_chunks) for c in range(len(chunks)))
    ratio_paired = bare_paired / full_paired
    return {
        "texts": args.texts,
        "n_texts": len(articles),
        "skipped": skipped,
        "words": words,
        "repeat": args.repeat,
        "batch_size": batch,
        "pipeline": pipeline_label(bare),
        "model": args.model,
        "bare": {"best_s": bare_best, "times_s": bare_times, "words_per_s": bare_wps, "paired_s": bare_paired},
        "full": {"best_s": full_best, "times_s": full_times, "words_per_s": full_wps, "paired_s": full_paired},
        "ratio": ratio,
        "ratio_paired": ratio_paired,
        "batches": len(chunks),
        "target_ratio": TARGET_RATIO,
        "pass": ratio >= TARGET_RATIO,
        "pass_paired": ratio_paired >= TARGET_RATIO,
        "peak_rss_mib": peak_rss_mib(),
    }


def show(result: dict[str, Any], console: Console) -> None:
    table = Table(title=f"reportedly throughput ({result['pipeline']})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("texts", f"{result['n_texts']:,}" + (f" ({len(result['skipped'])} skipped)" if result["skipped"] else ""))
    table.add_row("words", f"{result['words']:,}")
    table.add_row("rounds x batch size", f"{result['repeat']} x {result['batch_size']}")
    table.add_row("bare spaCy, best", f"{result['bare']['best_s']:.2f} s  {result['bare']['words_per_s']:,.0f} words/s")
    table.add_row("full reportedly, best", f"{result['full']['best_s']:.2f} s  {result['full']['words_per_s']:,.0f} words/s")
    verdict = "PASS" if result["pass"] else "BELOW TARGET"
    table.add_row("ratio full/bare", f"{result['ratio']:.3f}  (target >= {result['target_ratio']}: {verdict})")
    verdict = "PASS" if result["pass_paired"] else "BELOW TARGET"
    table.add_row(
        "ratio, paired by batch", f"{result['ratio_paired']:.3f}  (best of each batch, {result['batches']} batches: {verdict})"
    )
    table.add_row("peak RSS (process)", f"{result['peak_rss_mib']:,.0f} MiB")
    console.print(table)
    for line in result["skipped"]:
        console.print(f"skipped {line}", markup=False, highlight=False)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    show(result, Console(highlight=False))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

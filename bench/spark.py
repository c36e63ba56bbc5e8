"""Articles/s of ``reportedly spark`` in Spark local mode, local[1] and local[2], beside the
multiprocessing ``reportedly ingest`` (2 workers) on the same JSON Lines input, in one run.

Each run starts from an empty output. A Spark figure is the time of the job itself (reading,
analysis with the pipeline loaded in each Python worker, writing every table and the corpus-level
entities and profile); the JVM's start, once per master, is shown apart. The ingest figure is the
time of ``ingest()``, from starting its worker pool (which loads the pipelines) to the last
SQLite commit.

    python bench/spark.py                                  # PolNeAR dev (84 articles)
    python bench/spark.py --input corpus.jsonl --limit 500
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from reportedly.corpus.ingest import ingest

REPO_ROOT = Path(__file__).resolve().parent.parent
POLNEAR = REPO_ROOT.parent / "shared" / "data" / "polnear"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--input", type=Path, default=None, help="a JSON Lines corpus (default: PolNeAR dev)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N lines of the input")
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"], help="Spark masters to time")
    parser.add_argument("--workers", type=int, default=2, help="processes of the ingest run (default 2)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return args


def prepare(args: argparse.Namespace, folder: Path) -> Path:
    if args.input is None:
        script = REPO_ROOT / "scripts" / "polnear_to_jsonl.py"
        cmd = [sys.executable, str(script), str(POLNEAR), "--splits", "dev"]
        lines = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
    else:
        lines = args.input.read_text(encoding="utf-8").splitlines()
    path = folder / "input.jsonl"
    path.write_text("".join(line + "\n" for line in lines[: args.limit]), encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    from reportedly.scaleout.spark import run as spark_run
    from reportedly.scaleout.spark import session

    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        folder = Path(tmp)
        src = prepare(args, folder)
        started = time.perf_counter()
        stats = ingest([src], folder / "ingest.sqlite", workers=args.workers)
        seconds = time.perf_counter() - started
        ingest_rate = (stats.stored + stats.duplicates) / seconds
        results: dict[str, Any] = {
            "input": str(args.input or "PolNeAR dev"),
            "articles": stats.stored + stats.duplicates,
            "failed": stats.failed,
            "words": stats.words,
            "ingest": {"workers": args.workers, "seconds": seconds, "articles_per_s": ingest_rate},
            "spark": {},
        }
        print(f"ingest, {args.workers} workers: {seconds:.1f} s", file=sys.stderr)
        for i, master in enumerate(args.masters):
            started = time.perf_counter()
            spark = session(master, app_name="reportedly-bench", conf={"spark.ui.showConsoleProgress": "false"})
            startup = time.perf_counter() - started
            try:
                out = folder / f"spark-{i}"
                st = spark_run(spark, [str(src)], str(out))
            finally:
                spark.stop()
            rate = (st.stored + st.duplicates) / st.seconds
            results["spark"][master] = {
                "articles": st.stored + st.duplicates,
                "failed": st.failed,
                "partitions": st.partitions,
                "startup_s": startup,
                "seconds": st.seconds,
                "articles_per_s": rate,
                "vs_ingest": rate / ingest_rate,
            }
            print(f"spark {master}: {st.seconds:.1f} s (+{startup:.1f} s to start)", file=sys.stderr)
    rates = [results["spark"][m]["articles_per_s"] for m in args.masters]
    results["scaling"] = rates[-1] / rates[0] if len(rates) > 1 else 1.0
    return results


def show(result: dict[str, Any], console: Console) -> None:
    title = f"reportedly spark vs ingest: {result['articles']} articles, {result['words']:,} words ({result['input']})"
    table = Table(title=title)
    table.add_column("run")
    table.add_column("partitions", justify="right")
    table.add_column("session start s", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("articles/s", justify="right")
    table.add_column("vs ingest", justify="right")
    ing = result["ingest"]
    table.add_row(f"ingest, {ing['workers']} workers", "", "", f"{ing['seconds']:.1f}", f"{ing['articles_per_s']:.2f}", "1.00")
    for master, r in result["spark"].items():
        table.add_row(
            f"spark {master}",
            str(r["partitions"]),
            f"{r['startup_s']:.1f}",
            f"{r['seconds']:.1f}",
            f"{r['articles_per_s']:.2f}",
            f"{r['vs_ingest']:.2f}",
        )
    console.print(table)
    masters = list(result["spark"])
    if len(masters) > 1:
        console.print(f"{masters[-1]} / {masters[0]}: {result['scaling']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    show(result, Console(highlight=False, width=None if sys.stdout.isatty() else 100))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``reportedly spark`` (the corpus analysis as an Apache Spark job) and ``reportedly spark-import``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True)

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _need_spark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise _fail("reportedly spark needs PySpark: pip install 'reportedly[spark]'") from None
    from reportedly.scaleout.spark import java_available

    if not java_available():
        raise _fail(
            "Spark needs Java 17 or later, and there is no java on PATH and no JAVA_HOME: "
            "install one (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless)"
        )


def register(app: typer.Typer) -> None:
    @app.command("spark")
    def spark_cmd(
        inputs: Annotated[
            list[str],
            typer.Argument(
                metavar="INPUT",
                help="Files, folders or URIs Spark can list (hdfs://, s3a://): .txt, .html, .jsonl, .warc(.gz), feeds.",
            ),
        ],
        output: Annotated[
            str, typer.Argument(metavar="OUTPUT", help="Folder (or URI) of the Parquet tables; a rerun adds what is new.")
        ],
        master: Annotated[
            str, typer.Option(help="Spark master: local[*] is every core here; spark://HOST:7077, yarn, k8s://...")
        ] = "local[*]",
        partitions: Annotated[
            int | None, typer.Option(min=1, help="Analysis partitions (default: 2 per core, and at least one per 500 articles).")
        ] = None,
        encoding: Annotated[str | None, typer.Option(help="Encoding of non-UTF-8 text files.")] = None,
        reports: Annotated[
            bool, typer.Option("--reports/--no-reports", help="Keep every full Report too (spark-import needs them).")
        ] = True,
    ) -> None:
        """Analyse a corpus on Spark into Parquet tables: export's articles, attributions and claims,
        plus entities, profile and failures. Resumable: a rerun skips what is written."""
        missing = [p for p in inputs if not _URI.match(p) and not Path(p).exists()]
        if missing:
            raise _fail(f"no such file or folder: {', '.join(missing)}")
        _need_spark()
        from reportedly.scaleout.spark import run, session, summary

        spark = session(master)
        try:
            stats = run(spark, inputs, output, partitions=partitions, encoding=encoding, reports=reports)
        finally:
            spark.stop()
        err.print(summary(stats, output), highlight=False)
        if stats.failed:
            err.print(f"see the failures: {output.rstrip('/')}/failures.parquet", highlight=False)

    @app.command("spark-import")
    def spark_import(
        output: Annotated[Path, typer.Argument(help="The output folder of reportedly spark.")],
        db: Annotated[Path, typer.Option("--db", help="SQLite file to create or add to.")] = Path("corpus.sqlite"),
    ) -> None:
        """Load the output of reportedly spark into a corpus database, for reportedly query."""
        from reportedly.scaleout.spark import import_output

        if not output.is_dir():
            raise _fail(f"no such folder: {output}")
        stats = import_output(output, db)
        err.print(
            f"{stats.stored} stored, {stats.duplicates} duplicates, {stats.skipped} already stored, "
            f"{stats.failed} failed -> {db}",
            highlight=False,
        )

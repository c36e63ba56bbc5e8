"""The ``reportedly`` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from reportedly import __version__
from reportedly.errors import ReportedlyError
from reportedly.ingest import DEFAULT_MAX_BYTES, read_path, read_stdin
from reportedly.interfaces.options import AttributionModel, ModelOption
from reportedly.model import Article, Report, json_schema

app = typer.Typer(
    name="reportedly",
    help="Who claims what in the news, through whom, and how firmly.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"


def sample_path() -> Path:
    return Path(str(resources.files("reportedly").joinpath("examples/slatest-sessions-offered-to-resign.txt")))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reportedly {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """reportedly reads news the way a careful editor does."""


@app.command()
def analyze(
    paths: Annotated[list[str], typer.Argument(help="Article files (text or HTML); '-' reads stdin.", show_default=False)],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="text: highlighted terminal view; json; jsonl (one report a line).")
    ] = OutputFormat.text,
    outlet: Annotated[
        str | None, typer.Option(help="Publishing outlet (default: the HTML's site name or the URL's domain).")
    ] = None,
    url: Annotated[str | None, typer.Option(help="The article's URL (metadata, and the outlet's domain).")] = None,
    encoding: Annotated[str | None, typer.Option(help="Input encoding when not UTF-8, e.g. cp1252. Never guessed.")] = None,
    max_bytes: Annotated[
        int, typer.Option(help="Refuse inputs larger than this (one article, not a corpus).")
    ] = DEFAULT_MAX_BYTES,
    pipeline: Annotated[str | None, typer.Option(help="spaCy pipeline package (default: best installed en_core_web_*).")] = None,
    model: ModelOption = AttributionModel.fast,
    save_svg: Annotated[Path | None, typer.Option(help="Also save the text view as an SVG picture (text format only).")] = None,
) -> None:
    """Analyse articles: attributions (source, cue, content), relay chains, certainty, voice."""
    from reportedly import get_analyzer

    failures = 0
    articles: list[tuple[str, Article]] = []
    for p in paths:
        try:
            if p == "-":
                articles.append(("stdin", read_stdin(url=url, outlet=outlet, encoding=encoding, max_bytes=max_bytes)))
            else:
                articles.append((p, read_path(p, url=url, outlet=outlet, encoding=encoding, max_bytes=max_bytes)))
        except ReportedlyError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            failures += 1
    if articles:
        try:
            analyzer = get_analyzer(model.value, pipeline)
        except ReportedlyError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        out = Console(soft_wrap=False, record=save_svg is not None)
        reports: Iterable[Report] = analyzer.analyze_many(a for _, a in articles)
        if len(articles) > 3 and err.is_terminal:
            from rich.progress import track

            reports = track(reports, total=len(articles), description="analysing", console=err, transient=True)
        for (_name, _), report in zip(articles, reports, strict=True):
            if fmt == OutputFormat.json:
                sys.stdout.write(report.to_json(indent=2) + "\n")
            elif fmt == OutputFormat.jsonl:
                sys.stdout.write(report.to_json(indent=None) + "\n")
            else:
                from reportedly.interfaces.render import render

                render(report, out)
        if save_svg is not None and fmt == OutputFormat.text:
            out.save_svg(str(save_svg), title="reportedly")
            err.print(f"saved {save_svg}")
    if failures:
        raise typer.Exit(2)


eval_app = typer.Typer(help="Score reportedly against annotated corpora.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


class Baseline(StrEnum):
    textacy = "textacy"


class ExportFormat(StrEnum):
    brat = "brat"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


@eval_app.command("polnear")
def eval_polnear(
    split: Annotated[str, typer.Option(help="train or dev (the test split is held back).")] = "dev",
    data: Annotated[
        Path | None, typer.Option(help="PolNeAR folder (default: $REPORTEDLY_POLNEAR or ../shared/data/polnear).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write all figures, per publisher and error summary, as JSON.")] = None,
    baseline: Annotated[Baseline | None, typer.Option(help="Also score a baseline on the same split, side by side.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N articles (quick checks).")] = None,
    model: ModelOption = AttributionModel.fast,
) -> None:
    """PolNeAR attribution scores: Source, Cue, Content and whole attributions, exact and overlap match."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    from reportedly.evaluation.polnear import load_split
    from reportedly.evaluation.report import render as render_eval
    from reportedly.evaluation.runner import evaluate

    docs = load_split(split, data, limit)
    n_articles = len({d.name for d in docs})
    systems = ["reportedly"] + ([baseline.value] if baseline else [])
    results = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True
    ) as bar:
        for system in systems:
            task = bar.add_task(f"{system} on {split}", total=n_articles)

            def advance(n: int, task: TaskID = task) -> None:
                bar.advance(task, n)

            results.append(evaluate(docs, system, progress=advance, model=model.value))
    render_eval(results, split, Console())
    if out is not None:
        payload = {"corpus": "PolNeAR", "split": split, "results": results}
        out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        err.print(f"wrote {out}")


class FactualityDataset(StrEnum):
    uw = "uw"
    meantime = "meantime"


@eval_app.command("factuality")
def eval_factuality(
    dataset: Annotated[list[FactualityDataset], typer.Option(help="uw or meantime; repeat for both.")] = [  # noqa: B006
        FactualityDataset.uw,
        FactualityDataset.meantime,
    ],
    split: Annotated[str, typer.Option(help="train or dev (the test splits are held back).")] = "dev",
    data: Annotated[
        Path | None, typer.Option(help="Factuality folder (default: $REPORTEDLY_FACTUALITY or ../shared/data/factuality).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON.")] = None,
) -> None:
    """Event factuality (-3..+3): Pearson r and MAE of our rules and learned model, beside an always-+3 baseline."""
    from reportedly.evaluation.factuality import evaluate as evaluate_factuality
    from reportedly.evaluation.factuality import table as factuality_table

    console = Console()
    results = []
    for ds in dict.fromkeys(dataset):  # each data set once, in the order given
        result = evaluate_factuality(ds.value, split, data)
        console.print(factuality_table(result))
        results.append(result)
    if out is not None:
        out.write_text(json.dumps({"task": "factuality", "results": results}, indent=2) + "\n", encoding="utf-8")
        err.print(f"wrote {out}")


@eval_app.command("subjectivity")
def eval_subjectivity(
    split: Annotated[str, typer.Option(help="train or dev (the test split is held back).")] = "dev",
    data: Annotated[
        Path | None, typer.Option(help="CheckThat! folder (default: $REPORTEDLY_SUBJECTIVITY or ../shared/data/subjectivity).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON.")] = None,
    voice: Annotated[
        str, typer.Option(help="Voice model: fast (the analysis's, default) or accurate (adds fine-tuned MiniLM; needs torch).")
    ] = "fast",
) -> None:
    """Opinion vs reporting on CheckThat! 2023 sentences: macro-F1 of the voice tagger beside the majority class."""
    from reportedly.evaluation.subjectivity import evaluate as evaluate_subjectivity
    from reportedly.evaluation.subjectivity import table as subjectivity_table

    result = evaluate_subjectivity(split, data, voice_model=voice)
    Console().print(subjectivity_table(result))
    if out is not None:
        out.write_text(json.dumps({"task": "subjectivity", **result}, indent=2) + "\n", encoding="utf-8")
        err.print(f"wrote {out}")


@app.command()
def export(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Article files to analyse and export (brat only).", show_default=False)
    ] = None,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="brat (.txt + .ann per article), jsonl, csv or parquet.")
    ] = (ExportFormat.brat),
    db: Annotated[Path | None, typer.Option(help="Export a corpus database made by reportedly ingest.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write into (created if missing).")] = Path("export"),
    outermost: Annotated[bool, typer.Option(help="brat: only outermost attributions (PolNeAR's convention).")] = False,
    outlet: Annotated[str | None, typer.Option(help="Publishing outlet of the files.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Input encoding when not UTF-8.")] = None,
) -> None:
    """Export attributions: brat standoff (viewable beside gold annotations), or a corpus as tables."""
    from reportedly.evaluation.brat import write_ann

    out.mkdir(parents=True, exist_ok=True)
    if fmt != ExportFormat.brat:
        if db is None or paths:
            _fail("jsonl, csv and parquet export a corpus: pass --db corpus.sqlite (and no files)")
        from reportedly.corpus.export import export as export_tables
        from reportedly.corpus.store import Store

        with Store(db, create=False) as store:
            for table, path in export_tables(store, fmt.value, out).items():
                err.print(f"wrote {table}: {path}")
        return
    reports: list[tuple[str, Report]] = []
    failures = 0
    if db is not None:
        from reportedly.corpus.store import Store

        with Store(db, create=False) as store:
            ids = [r[0] for r in store.query("SELECT id FROM articles ORDER BY id")]
            reports = [(i, r) for i in ids if (r := store.report(i)) is not None]
    if paths:
        from reportedly import get_analyzer

        analyzer = get_analyzer()
        for p in paths:
            try:
                article = read_path(p, outlet=outlet, encoding=encoding)
            except ReportedlyError as exc:
                err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
                failures += 1
                continue
            reports.append((Path(p).stem, analyzer.analyze(article)))
    if not reports and not failures:
        _fail("nothing to export: name article files, or a corpus with --db")
    for stem, report in reports:
        # brat offsets index the .txt beside the .ann: write the analysed text, not the raw file
        (out / f"{stem}.txt").write_text(report.article.text, encoding="utf-8")
        (out / f"{stem}.ann").write_text(write_ann(report, outermost_only=outermost), encoding="utf-8")
    err.print(f"wrote {len(reports)} article(s) to {out}/")
    if failures:
        raise typer.Exit(2)


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def schema() -> None:
    """Print the JSON schema of a Report (versioned; the contract between all parts)."""
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command()
def sample() -> None:
    """Print the path of the bundled sample article."""
    typer.echo(str(sample_path()))


from reportedly.interfaces import corpus_cli  # noqa: E402  (registers ingest and query on app)

corpus_cli.register(app)

from reportedly.interfaces import spark_cli  # noqa: E402  (registers spark and spark-import on app)

spark_cli.register(app)

from reportedly.interfaces import server_cli  # noqa: E402  (registers serve on app)

server_cli.register(app)

from reportedly.interfaces import events_cli  # noqa: E402

events_cli.register(eval_app)


def main() -> None:
    try:
        app()
    except ReportedlyError as exc:  # anything an analyser raised on purpose: one line, no traceback
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)

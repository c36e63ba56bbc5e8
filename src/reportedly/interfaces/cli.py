"""The ``reportedly`` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from reportedly import __version__
from reportedly.errors import ReportedlyError
from reportedly.ingest import DEFAULT_MAX_BYTES, read_path, read_stdin
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
            analyzer = get_analyzer(pipeline)
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


@app.command()
def schema() -> None:
    """Print the JSON schema of a Report (versioned; the contract between all parts)."""
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command()
def sample() -> None:
    """Print the path of the bundled sample article."""
    typer.echo(str(sample_path()))


def main() -> None:
    try:
        app()
    except ReportedlyError as exc:  # anything an analyser raised on purpose: one line, no traceback
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)

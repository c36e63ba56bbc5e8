"""Corpus commands: ``reportedly ingest`` and ``reportedly query ...``."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from reportedly.interfaces.options import AttributionModel, ModelOption

err = Console(stderr=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


DbOption = Annotated[Path, typer.Option("--db", help="Corpus database (SQLite) made by reportedly ingest.")]
FmtOption = Annotated[Fmt, typer.Option("--format", "-f", help="table, json or csv.")]


def _emit(rows: list[dict[str, Any]], fmt: Fmt, title: str) -> None:
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == Fmt.csv:
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        sys.stdout.write(buf.getvalue())
        return
    table = Table(title=title, title_justify="left")
    if not rows:
        Console().print(f"{title}: nothing found")
        return
    for col in rows[0]:
        numeric = all(isinstance(r[col], int | float) for r in rows if r[col] is not None)
        table.add_column(col.replace("_", " "), justify="right" if numeric else "left", overflow="fold")
    for r in rows:
        table.add_row(*("" if v is None else f"{v:,}" if isinstance(v, int) else str(v) for v in r.values()))
    Console().print(table)


def _store(db: Path) -> Any:
    from reportedly.corpus.store import Store

    return Store(db, create=False)


def register(app: typer.Typer) -> None:
    query_app = typer.Typer(help="Ask a corpus database questions.", no_args_is_help=True)
    app.add_typer(query_app, name="query")

    @app.command()
    def ingest(
        paths: Annotated[list[Path], typer.Argument(help="Files or folders: .txt, .html, .jsonl, .warc(.gz), .rss/.atom/.xml.")],
        db: Annotated[Path, typer.Option("--db", help="SQLite file to create or add to.")] = Path("corpus.sqlite"),
        workers: Annotated[int | None, typer.Option(help="Analysis processes (default: all cores).")] = None,
        encoding: Annotated[str | None, typer.Option(help="Encoding of non-UTF-8 text files.")] = None,
        stories: Annotated[bool, typer.Option(help="Cluster new articles into stories when done.")] = True,
        model: ModelOption = AttributionModel.fast,
    ) -> None:
        """Analyse a corpus into a database. Resumable: a rerun skips what is stored; failures are recorded."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        from reportedly.corpus.ingest import IngestStats, count_items, ingest

        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            err.print(f"[red]error:[/red] no such file or folder: {', '.join(missing)}", highlight=False)
            raise typer.Exit(2)
        total = count_items(paths)
        started = time.perf_counter()
        with Progress(
            TextColumn("ingesting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} articles/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("ingest", total=total, rate="0.0")

            def progress(s: IngestStats) -> None:
                done = s.stored + s.duplicates + s.failed + s.skipped
                rate = (s.stored + s.duplicates) / max(time.perf_counter() - started, 1e-9)
                bar.update(task, completed=done, rate=f"{rate:.1f}")

            stats = ingest(paths, db, workers=workers, encoding=encoding, progress=progress, model=model.value)
        seconds = time.perf_counter() - started
        analysed = stats.stored + stats.duplicates
        err.print(
            f"{stats.stored} stored, {stats.duplicates} duplicates, {stats.skipped} already stored, {stats.failed} failed; "
            f"{analysed / seconds:.2f} articles/s, {stats.words / seconds:,.0f} words/s over {seconds:.1f} s -> {db}",
            highlight=False,
        )
        if stats.failed:
            err.print("see the failures: reportedly query failures --db " + str(db), highlight=False)
        if stories and stats.stored:
            from reportedly.corpus.store import Store
            from reportedly.corpus.stories import assign_stories, backend

            t0 = time.perf_counter()
            with Store(db) as store:
                placed = assign_stories(store)
            took = time.perf_counter() - t0
            err.print(
                f"stories: {placed} articles placed in {took:.1f} s ({placed / max(took, 1e-9):.0f} articles/s, {backend()})"
            )

    @query_app.command("claims")
    def q_claims(
        about: Annotated[str | None, typer.Option(help="Claims mentioning an entity: 'Jeff Sessions', 'Sessions'.")] = None,
        by: Annotated[str | None, typer.Option(help="Claims whose source is an entity.")] = None,
        db: DbOption = Path("corpus.sqlite"),
        fmt: FmtOption = Fmt.table,
        limit: int = 200,
    ) -> None:
        """Claims about (or by) an entity, with their source, outlet, date and certainty."""
        from reportedly.corpus.query import claims_about, claims_by

        if (about is None) == (by is None):
            err.print("[red]error:[/red] give one of --about NAME or --by NAME", highlight=False)
            raise typer.Exit(2)
        with _store(db) as store:
            if about is not None:
                _emit(claims_about(store, about, limit), fmt, f"Claims about {about}")
            else:
                _emit(claims_by(store, by or "", limit), fmt, f"Claims by {by}")

    @query_app.command("sources")
    def q_sources(
        outlet: Annotated[str | None, typer.Option(help="Only this outlet (name or domain).")] = None,
        db: DbOption = Path("corpus.sqlite"),
        fmt: FmtOption = Fmt.table,
        limit: int = 100,
    ) -> None:
        """Who an outlet quotes: sources by attributions, named versus anonymous."""
        from reportedly.corpus.query import sources

        with _store(db) as store:
            _emit(sources(store, outlet, limit), fmt, f"Sources quoted by {outlet or 'all outlets'}")

    @query_app.command("profile")
    def q_profile(
        db: DbOption = Path("corpus.sqlite"),
        fmt: FmtOption = Fmt.table,
        plot: Annotated[Path | None, typer.Option(help="Also draw the profile as a PNG chart.")] = None,
    ) -> None:
        """Sourcing profile per outlet: attribution density, anonymous, hedged and opinion shares."""
        from reportedly.corpus.query import plot_profile, profile

        with _store(db) as store:
            rows = profile(store)
        _emit(rows, fmt, "Outlet sourcing profile")
        if plot is not None:
            plot_profile(rows, plot)
            err.print(f"wrote {plot}")

    @query_app.command("search")
    def q_search(
        text: Annotated[str, typer.Argument(help="Words or an FTS5 query: 'resign*', 'Sessions AND Trump'.")],
        db: DbOption = Path("corpus.sqlite"),
        fmt: FmtOption = Fmt.table,
        limit: int = 50,
    ) -> None:
        """Full-text search over claims."""
        from reportedly.corpus.query import search

        with _store(db) as store:
            _emit(search(store, text, limit), fmt, f"Claims matching {text!r}")

    @query_app.command("events")
    def q_events(
        actor: Annotated[str | None, typer.Option(help="Only events this entity did: 'Jeff Sessions'.")] = None,
        db: DbOption = Path("corpus.sqlite"),
        fmt: FmtOption = Fmt.table,
        limit: int = 200,
    ) -> None:
        """Who did what to whom: events with CAMEO class, the outlet's certainty and their support."""
        from reportedly.corpus.query import events

        with _store(db) as store:
            _emit(events(store, actor, limit), fmt, f"Events{' by ' + actor if actor else ''}")

    @query_app.command("stories")
    def q_stories(db: DbOption = Path("corpus.sqlite"), fmt: FmtOption = Fmt.table, limit: int = 50) -> None:
        """Stories: articles clustered across outlets and days, biggest first."""
        from reportedly.corpus.stories import assign_stories, stories

        with _store(db) as store:
            assign_stories(store)  # place any article ingested since the last run
            _emit(stories(store, limit), fmt, "Stories")

    @query_app.command("provenance")
    def q_provenance(
        claim: Annotated[int, typer.Option(help="Claim id (the 'claim_id' column of query search / claims).")],
        db: DbOption = Path("corpus.sqlite"),
        fmt: FmtOption = Fmt.table,
        plot: Annotated[Path | None, typer.Option(help="Also draw the provenance graph as a PNG.")] = None,
    ) -> None:
        """How a claim travelled: who reported it first, who relayed it, who cites whom."""
        from rich.tree import Tree

        from reportedly.corpus.stories import assign_stories, plot_provenance, provenance

        with _store(db) as store:
            assign_stories(store)
            prov = provenance(store, claim)
        if fmt == Fmt.json:
            sys.stdout.write(json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
        elif fmt == Fmt.csv:
            _emit(prov["reports"], fmt, "")
        else:
            c = prov["claim"]
            tree = Tree(f"[bold]“{c['text']}”[/bold]  (claim {c['rowid']}, story {c['story_id']})")
            for r in prov["reports"]:
                how = "[bold green]reported first[/]" if r["first"] else "relayed"
                tree.add(f"{r['date'] or '?'}  {r['outlet'] or '(unknown outlet)'}: {how}, source {r['source']}")
            if prov["citations"]:
                cites = tree.add("citations in this story")
                for e in prov["citations"]:
                    cites.add(f"{e['citing']} → {e['cited']}" + (f"  (x{e['n']})" if e["n"] > 1 else ""))
            Console().print(tree)
        if plot is not None:
            plot_provenance(prov, plot)
            err.print(f"wrote {plot}")

    @query_app.command("failures")
    def q_failures(db: DbOption = Path("corpus.sqlite"), fmt: FmtOption = Fmt.table) -> None:
        """Inputs that could not be analysed, and why."""
        with _store(db) as store:
            rows = [dict(r) for r in store.query("SELECT origin, reason FROM failures ORDER BY failed_at")]
        _emit(rows, fmt, "Failures")

"""Rendering evaluation results as terminal tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from reportedly.evaluation.brat import ROLES
from reportedly.evaluation.scoring import MODES

_ROWS = (*ROLES, "attribution")


def overall_table(results: list[dict[str, Any]], split: str) -> Table:
    table = Table(title=f"PolNeAR {split}: precision / recall / F1", title_justify="left")
    table.add_column("system")
    table.add_column("match")
    for role in _ROWS:
        table.add_column(role, justify="right")
    for res in results:
        for mode in MODES:
            cells = []
            for role in _ROWS:
                c = res["overall"][role][mode]
                cells.append(f"{c['precision']:.3f} / {c['recall']:.3f} / [bold]{c['f1']:.3f}[/bold]")
            table.add_row(res["system"], mode, *cells)
    table.caption = "  ".join(
        f"{r['system']}: {r['articles']} articles ({r['documents']} annotation files), {r['words']:,} words, "
        f"{r['words_per_s']:,.0f} words/s"
        for r in results
    )
    return table


def publisher_table(results: list[dict[str, Any]]) -> Table:
    table = Table(title="F1 per publisher (exact | overlap)", title_justify="left")
    table.add_column("publisher")
    table.add_column("system")
    for role in _ROWS:
        table.add_column(role, justify="right")
    pubs = sorted({p for r in results for p in r["per_publisher"]})
    for pub in pubs:
        for res in results:
            row = res["per_publisher"].get(pub)
            if row is None:
                continue
            table.add_row(
                pub, res["system"], *(f"{row[role]['exact']['f1']:.3f} | {row[role]['overlap']['f1']:.3f}" for role in _ROWS)
            )
    return table


def errors_table(result: dict[str, Any], limit: int = 8) -> Table:
    table = Table(title=f"{result['system']}: commonest misses and false alarms (overlap match)", title_justify="left")
    table.add_column("missed gold cue", overflow="fold")
    table.add_column("n", justify="right")
    table.add_column("false-alarm cue", overflow="fold")
    table.add_column("n", justify="right")
    misses = result["errors"]["misses_by_cue"][:limit]
    alarms = result["errors"]["false_alarms_by_cue"][:limit]
    for i in range(max(len(misses), len(alarms))):
        m = misses[i] if i < len(misses) else {"cue": "", "count": ""}
        a = alarms[i] if i < len(alarms) else {"cue": "", "count": ""}
        table.add_row(m["cue"], str(m["count"]), a["cue"], str(a["count"]))
    return table


def render(results: list[dict[str, Any]], split: str, console: Console) -> None:
    console.print(overall_table(results, split))
    console.print(publisher_table(results))
    for res in results:
        console.print(errors_table(res))

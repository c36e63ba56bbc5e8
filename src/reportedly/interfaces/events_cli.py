"""``reportedly eval cameo``: event classes against the CAMEO gold sentences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("cameo")
    def eval_cameo(
        which: Annotated[
            str, typer.Option("--set", help="gsr (78 real news sentences) or unit (PETRARCH unit records).")
        ] = "gsr",
        data: Annotated[Path | None, typer.Option(help="CAMEO folder (default ../shared/data/cameo).")] = None,
        out: Annotated[Path | None, typer.Option(help="Write the figures as JSON.")] = None,
    ) -> None:
        """Precision/recall of event classes (CAMEO top level) per gold sentence."""
        from reportedly.evaluation.cameo import evaluate

        res = evaluate(which, data)
        table = Table(
            title=f"CAMEO {which}: {res['sentences']} sentences, {res['gold_events']} gold events", title_justify="left"
        )
        for col in ("class", "precision", "recall", "F1", "gold", "predicted"):
            table.add_column(col, justify="left" if col == "class" else "right")
        from reportedly.events.extractor import event_lexicon

        labels = event_lexicon().classes
        for cls, r in [*res["per_class"].items(), ("all", res["overall"])]:
            name = "all (micro)" if cls == "all" else f"{cls} {labels.get(cls, '')}"
            table.add_row(name, f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}", str(r["gold"]), str(r["pred"]))
        Console().print(table)
        if out is not None:
            out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")

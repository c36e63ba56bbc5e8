"""Command-line options shared by several commands."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class AttributionModel(StrEnum):
    """Attribution extractors (docs/accuracy.md compares them)."""

    fast = "fast"
    accurate = "accurate"
    rules = "rules"


ModelOption = Annotated[
    AttributionModel,
    typer.Option(
        "--model",
        help="Attribution extractor: fast (a dilated CNN trained on PolNeAR, over the parse; default), "
        "accurate (fine-tuned MiniLM and MPNet taggers; "
        "needs torch and reportedly[accurate]) or rules (the rules alone).",
    ),
]

"""What every route needs: the analysis runner, the corpus (if any) and the limits."""

from __future__ import annotations

from dataclasses import dataclass

from reportedly.interfaces.server.analysis import AnalysisRunner
from reportedly.interfaces.server.corpus import Corpus


@dataclass
class ServerContext:
    runner: AnalysisRunner
    corpus: Corpus | None
    max_body: int
    timeout_s: float

"""Analysis off the event loop, with a time limit.

One analyser per worker process, loaded at start-up, and one thread that runs it: spaCy holds the
GIL for most of a parse, so more threads would add contention rather than throughput (run more
worker processes for more cores), and one thread means the pipeline is never entered twice at
once. The time limit covers the wait in the queue as well as the analysis, so an overloaded
server answers 504 promptly instead of letting requests pile up; a request that times out while
still queued is dropped, one that is already running finishes in the background (a thread
cannot be interrupted) and its result is discarded.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from reportedly.errors import ReportedlyError
from reportedly.ingest import read_string
from reportedly.model import Report
from reportedly.pipeline.analyzer import Analyzer


class AnalysisTimeout(ReportedlyError):
    pass


class AnalysisRunner:
    def __init__(self, timeout_s: float, max_chars: int) -> None:
        self.timeout_s = timeout_s
        self.max_chars = max_chars
        self.analyzer: Analyzer | None = None
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        from reportedly import get_analyzer

        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportedly-analysis")
        self.analyzer = get_analyzer()
        # The first parse pays for lazy initialisation inside spaCy; pay it before the first request.
        self.analyzer.analyze(read_string("Officials said on Monday that the bridge would reopen.", outlet="warm-up"))

    def stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    @property
    def pipeline(self) -> str:
        return self.analyzer.label if self.analyzer is not None else ""

    def _analyse(self, text: str, url: str | None, outlet: str | None) -> Report:
        assert self.analyzer is not None
        return self.analyzer.analyze(read_string(text, url=url, outlet=outlet, max_bytes=self.max_chars))

    async def analyze(self, text: str, *, url: str | None = None, outlet: str | None = None) -> Report:
        """Raises InputError for text that is not an analysable article, AnalysisTimeout past the limit."""
        if self._executor is None:
            raise ReportedlyError("the analyser is not loaded yet")
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(self._executor, partial(self._analyse, text, url, outlet))
        try:
            return await asyncio.wait_for(job, self.timeout_s)
        except TimeoutError:
            raise AnalysisTimeout(f"analysis took longer than the {self.timeout_s:g}-second limit") from None

"""reportedly: who claims what in the news, through whom, and how firmly.

>>> import reportedly
>>> report = reportedly.analyze("Officials said the bridge would reopen, according to Reuters.")
>>> [a.kind.value for a in report.attributions]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

__version__ = "0.1.0"

from reportedly.model import SCHEMA_VERSION, Article, Report

if TYPE_CHECKING:
    from reportedly.pipeline.analyzer import Analyzer

__all__ = ["SCHEMA_VERSION", "Article", "Report", "__version__", "analyze", "analyze_many", "get_analyzer"]


@lru_cache(maxsize=4)
def get_analyzer(model: str = "fast", pipeline: str | None = None) -> Analyzer:
    """The shared analyser: ``model`` is the attribution extractor (``fast``, ``accurate``, ``rules``);
    ``pipeline`` a spaCy package name (None picks the best installed)."""
    from reportedly.pipeline.analyzer import Analyzer

    return Analyzer(model, pipeline=pipeline)


def _as_article(item: str | Article, url: str | None, outlet: str | None) -> Article:
    if isinstance(item, Article):
        return item
    from reportedly.ingest import read_string

    return read_string(item, url=url, outlet=outlet)


def analyze(
    text_or_html: str | Article,
    *,
    url: str | None = None,
    outlet: str | None = None,
    model: str = "fast",
    pipeline: str | None = None,
) -> Report:
    """Analyse one article given as plain text, HTML, or an :class:`Article`.

    Raises :class:`reportedly.errors.InputError` (with a one-line message) for input that is not
    an analysable English article.
    """
    return get_analyzer(model, pipeline).analyze(_as_article(text_or_html, url, outlet))


def analyze_many(
    items: Iterable[str | Article], *, outlet: str | None = None, model: str = "fast", pipeline: str | None = None
) -> Iterator[Report]:
    """Analyse many articles in batches (one ``nlp.pipe`` stream); yields reports in order."""
    return get_analyzer(model, pipeline).analyze_many(_as_article(i, None, outlet) for i in items)

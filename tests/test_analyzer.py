"""The analyser settles its heap once the pipeline and models are loaded, and reports the same."""

from __future__ import annotations

import gc

from reportedly.ingest import read_string
from reportedly.pipeline.analyzer import Analyzer


def _tracked(obj: object) -> bool:
    # ``gc.get_objects`` lists the three generations the collector walks, not the frozen objects.
    return any(o is obj for o in gc.get_objects())


def test_settled_analyzer_hides_its_models_from_the_collector_and_reports_the_same(sample_text: str) -> None:
    gc.unfreeze()
    try:
        plain = Analyzer("fast", settle=False)
        assert gc.get_freeze_count() == 0
        assert _tracked(plain.nlp)
        before = plain.analyze(read_string(sample_text, outlet="Slate"))

        settled = Analyzer("fast", nlp=plain.nlp)
        # The shared spaCy pipeline and the CRF's feature tables are out of the collector's walk.
        assert gc.get_freeze_count() > 10_000
        assert not _tracked(settled.nlp)
        assert not _tracked(settled.learned[0].extractor)
        after = settled.analyze(read_string(sample_text, outlet="Slate"))
        assert after.model_dump() == before.model_dump()
        # Objects made after the freeze are collected as usual.
        assert _tracked(after)
    finally:
        gc.unfreeze()

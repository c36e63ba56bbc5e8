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


def test_fast_step_takes_the_rules_content_where_both_found_the_cue() -> None:
    """Fast's network leads, but where a rule found the same cue and its Content (cut from the
    parse tree) holds the network's, the rule's replaces it; the network's source and cue stay, and
    an attribution the rules did not find keeps its own Content."""
    from reportedly.attribution.extractor import Candidate
    from reportedly.model import AttributionKind
    from reportedly.pipeline.analyzer import Step

    rule = Candidate(AttributionKind.indirect, (10, 14), [(20, 40)], "speech:verb+complement")
    tagged = Candidate(AttributionKind.indirect, (10, 14), [(20, 33)], "crf", confidence=0.9, reporting=1.0)
    alone = Candidate(AttributionKind.direct, (60, 64), [(66, 80)], "crf", confidence=0.9, reporting=1.0)

    class Fixed:
        def extract(self, doc: object, paragraphs: object, rules: object) -> list[Candidate]:
            return [tagged, alone]

    step = Step(Fixed(), 0.5, learned_first=True, plausible=True, rule_content=True)  # type: ignore[arg-type]
    out = sorted(step.combine([rule], [tagged, alone]), key=lambda c: c.cue)
    assert [(c.cue, c.content, c.rule) for c in out] == [((10, 14), [(20, 40)], "crf"), ((60, 64), [(66, 80)], "crf")]
    without = Step(Fixed(), 0.5, learned_first=True, plausible=True)  # type: ignore[arg-type]
    assert sorted(without.combine([rule], [tagged, alone]), key=lambda c: c.cue)[0].content == [(20, 33)]
    # A network Content that reaches past the rule's (the rule stopped at the first quotation) or
    # lies elsewhere stays the network's; so does its kind.
    longer = Candidate(AttributionKind.mixed, (10, 14), [(20, 40), (52, 58)], "crf", confidence=0.9, reporting=1.0)
    elsewhere = Candidate(AttributionKind.mixed, (10, 14), [(0, 9)], "crf", confidence=0.9, reporting=1.0)
    for own in (longer, elsewhere):
        (got,) = step.combine([rule], [own])
        assert (got.content, got.kind) == (own.content, AttributionKind.mixed)
    # Unless the network's Content takes in the Source: "according to [the two people ...]" read
    # as content as well.
    import spacy

    text = "The moment was brief, according to two people close to the White House."
    doc = spacy.blank("en")(text)
    people = doc.char_span(text.index("two people"), len(text) - 1)
    cue = (text.index("according to"), text.index(" two"))
    ruled = Candidate(AttributionKind.according_to, cue, [(0, text.index(","))], "according-to", source=people)
    misread = Candidate(
        AttributionKind.according_to, cue, [(0, text.index(",")), (people.start_char, people.end_char)], "crf", confidence=0.9
    )
    (got,) = step.combine([ruled], [misread])
    assert got.content == ruled.content and got.source is people


def test_accurate_step_gives_a_contentless_tagged_cue_the_rules_content() -> None:
    """Accurate's taggers lead with their own contents, even where a rule's holds theirs
    (``missing_content``, not ``rule_content``); a tagged cue they gave no Content takes the rule's
    for the same cue, with its kind and, where the tagger drew none, its Source."""
    import spacy

    from reportedly.attribution.extractor import Candidate
    from reportedly.model import AttributionKind
    from reportedly.pipeline.analyzer import Step

    text = "The aide said on Monday that the talks had failed."
    doc = spacy.blank("en")(text)
    aide = doc.char_span(0, len("The aide"))
    cue = (text.index("said"), text.index("said") + 4)
    clause = [(text.index("that"), len(text) - 1)]
    rule = Candidate(AttributionKind.indirect, cue, clause, "speech:verb+complement", source=aide)
    bare = Candidate(AttributionKind.direct, cue, [], "crf", confidence=0.9)
    inside = Candidate(AttributionKind.direct, cue, [(text.index("the talks"), len(text) - 1)], "crf", confidence=0.9)

    class Fixed:
        def extract(self, doc: object, paragraphs: object, rules: object) -> list[Candidate]:
            return []

    step = Step(Fixed(), 0.5, learned_first=True, missing_content=True)  # type: ignore[arg-type]
    (got,) = step.combine([rule], [bare])
    assert (got.content, got.kind, got.source, got.rule) == (clause, AttributionKind.indirect, aide, "crf")
    (kept,) = step.combine([rule], [inside])
    assert (kept.content, kept.kind, kept.source) == (inside.content, AttributionKind.direct, None)
    (plain,) = Step(Fixed(), 0.5, learned_first=True).combine([rule], [bare])  # type: ignore[arg-type]
    assert plain.content == []
    # No rule on that cue: the tagger's attribution stands as it is.
    (alone,) = step.combine([], [bare])
    assert alone.content == [] and alone.source is None


def test_fast_step_gives_an_unsourced_tagged_cue_its_verbs_subject() -> None:
    """A tagged attribution with no Source takes the subject of its cue verb (``parse_sources``);
    one whose "subject" lies inside its content (a parse gone wrong) stays unsourced."""
    from reportedly.attribution.extractor import Candidate
    from reportedly.model import AttributionKind
    from reportedly.pipeline.analyzer import Step
    from reportedly.pipeline.nlp import load_nlp

    text = "The senator from Ohio insisted that the vote was rigged."
    doc = load_nlp()(text)
    said = next(t for t in doc if t.text == "insisted")
    content = [(text.index("the vote"), len(text) - 1)]
    cue = (said.idx, said.idx + len(said.text))
    tagged = Candidate(AttributionKind.indirect, cue, content, "crf", cue_token=said, confidence=0.9)

    class Fixed:
        def extract(self, doc: object, paragraphs: object, rules: object) -> list[Candidate]:
            return [tagged]

    (got,) = Step(Fixed(), 0.5, learned_first=True, parse_sources=True).combine([], [tagged])  # type: ignore[arg-type]
    assert got.source is not None and got.source.text == "The senator from Ohio"
    (plain,) = Step(Fixed(), 0.5, learned_first=True).combine([], [tagged])  # type: ignore[arg-type]
    assert plain.source is None
    inside = Candidate(AttributionKind.indirect, tagged.cue, [(0, len(text) - 1)], "crf", cue_token=said, confidence=0.9)
    (kept,) = Step(Fixed(), 0.5, learned_first=True, parse_sources=True).combine([], [inside])  # type: ignore[arg-type]
    assert kept.source is None

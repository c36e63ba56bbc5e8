"""The acceptance points on the bundled sample article (Slate on Sessions offering to resign)."""

from __future__ import annotations

from reportedly.model import AttributionKind, Certainty, Report, SourceKind, Voice


def _by_source(report: Report, name: str):
    return [a for a in report.attributions if (s := report.source(a.source_id)) is not None and s.name == name]


def test_abc_news_according_to(sample_report: Report) -> None:
    (abc,) = _by_source(sample_report, "ABC News")
    assert abc.kind == AttributionKind.according_to
    assert abc.cue.text == "according to"
    assert abc.content_text.startswith("Trump’s anger at his attorney general’s recusal apparently continues")
    assert abc.content_text.endswith("in private meetings")
    assert sample_report.source(abc.source_id).kind == SourceKind.outlet
    assert sample_report.chain(abc) == ["Slate", "ABC News"]
    claim = sample_report.claim_for(abc)
    assert claim is not None and claim.certainty == Certainty.probable  # "apparently"


def test_washington_post_relays_the_anonymous_pair(sample_report: Report) -> None:
    (wapo,) = _by_source(sample_report, "The Washington Post")
    assert wapo.cue.text == "From" and wapo.parent_id is None
    assert wapo.content_text.startswith("It is unclear when Sessions offered to resign")
    assert wapo.content_text.endswith("these people said")  # PolNeAR leaves the full stop out
    pair = [a for a in sample_report.attributions if a.parent_id == wapo.id]
    assert pair, "the anonymous pair's attributions hang under the Washington Post"
    sources = {a.source_id for a in pair}
    assert len(sources) == 1, "'two people ...' and both 'these people said' are one group"
    src = sample_report.source(sources.pop())
    assert src is not None
    assert src.anonymous and src.kind == SourceKind.anonymous
    assert src.count == 2
    assert src.descriptor == "people close to the White House"
    according = next(a for a in pair if a.kind == AttributionKind.according_to)
    assert according.source.text.startswith("the two people close to the White House")
    assert sample_report.chain(according) == ["Slate", "The Washington Post", "people close to the White House"]


def test_these_people_said_resolves_to_the_same_group(sample_report: Report) -> None:
    these = [a for a in sample_report.attributions if a.source is not None and a.source.text == "these people"]
    assert len(these) == 2
    assert {a.cue.text for a in these} == {"said"}
    group = next(s for s in sample_report.sources if s.anonymous)
    assert {a.source_id for a in these} == {group.id}
    assert [m.text for m in group.mentions][1:] == ["these people", "these people"]


def test_trump_apparently_believes_is_below_certain(sample_report: Report) -> None:
    (belief,) = [a for a in sample_report.attributions if a.cue.text == "believes"]
    assert belief.kind == AttributionKind.belief_or_intent
    assert sample_report.source(belief.source_id).name == "Trump"
    assert belief.content_text.startswith("the ultimate responsibility for Robert Mueller’s selection")
    claim = sample_report.claim_for(belief)
    assert claim is not None
    assert claim.certainty not in (Certainty.certain, Certainty.negated)
    assert "apparently" in [h.cue.text for h in sample_report.hedges if h.id in claim.hedge_ids]


def test_trump_made_clear_nested_under_these_people(sample_report: Report) -> None:
    (made_clear,) = [a for a in sample_report.attributions if a.cue.text == "made clear"]
    assert sample_report.source(made_clear.source_id).name == "Trump"
    assert made_clear.content_text.startswith("that although he did not like Sessions’s decision")
    assert "these people said" not in made_clear.content_text  # the parenthetical is cut out
    assert made_clear.content_text.endswith("he still had faith in his attorney general")
    assert sample_report.chain(made_clear) == ["Slate", "The Washington Post", "people close to the White House", "Trump"]
    claim = sample_report.claim_for(made_clear)
    assert claim is not None and claim.certainty == Certainty.certain  # "did not like" is inside "although ..."


def test_hedges(sample_report: Report) -> None:
    cues = [h.cue.text for h in sample_report.hedges]
    for expected in ("Reportedly", "reportedly", "apparently", "unclear", "Probably"):
        assert expected in cues
    kinds = {h.cue.text.lower(): h.kind for h in sample_report.hedges}
    assert kinds["reportedly"] == Certainty.probable
    assert kinds["unclear"] == Certainty.unknown
    for h in sample_report.hedges:
        assert sample_report.article.text[h.cue.start : h.cue.end] == h.cue.text


def test_hedged_outlet_claims(sample_report: Report) -> None:
    headline = next(c for c in sample_report.claims if c.content[0].text.startswith("Jeff Sessions Reportedly Offered"))
    assert headline.certainty == Certainty.probable
    unclear = next(c for c in sample_report.claims if c.content[0].text.startswith("It’s unclear how serious"))
    assert unclear.certainty == Certainty.unknown
    refused = next(c for c in sample_report.claims if c.content[0].text == "Trump refused the offer")
    assert refused.certainty == Certainty.certain and refused.attribution_id is None
    bad_thing = next(c for c in sample_report.claims if c.content[0].text == "Which is a bad thing")
    assert bad_thing.certainty == Certainty.probable, "the aside 'Probably.' hedges the sentence before it"


def test_opinion_at_start_and_end(sample_report: Report) -> None:
    voice = {v.sentence.text: v.voice for v in sample_report.voice}
    opening = next(t for t in voice if t.startswith("To add a dollop of crazy"))
    assert voice[opening] == Voice.opinion
    for closing in ("Soon there will be no one left.", "Which is a bad thing.", "Probably."):
        assert voice[closing] == Voice.opinion
    for reporting in ("Trump refused the offer.", "It is unclear when Sessions offered to resign, and Trump refused the offer."):
        assert voice[reporting] == Voice.reporting
    relayed = next(t for t in voice if t.startswith("The moment was brief"))
    assert voice[relayed] == Voice.reporting


def test_entities_merge_name_forms(sample_report: Report) -> None:
    sessions = next(e for e in sample_report.entities if e.name == "Jeff Sessions")
    forms = {m.text for m in sessions.mentions}
    assert {"Jeff Sessions", "Sessions"} <= forms
    assert "attorney general" in sessions.titles
    assert "attorney general" in forms  # "his attorney general": a role mention linked through the title
    trump = next(e for e in sample_report.entities if e.name == "Trump")
    assert trump.kind.value == "person" and "president" in trump.titles


def test_every_span_matches_the_text(sample_report: Report) -> None:
    text = sample_report.article.text
    spans = [p for a in sample_report.attributions for p in [a.cue, *a.content, *([a.source] if a.source else [])]]
    spans += [p for c in sample_report.claims for p in c.content]
    spans += [v.sentence for v in sample_report.voice]
    spans += [m for e in sample_report.entities for m in e.mentions]
    for sp in spans:
        assert text[sp.start : sp.end] == sp.text

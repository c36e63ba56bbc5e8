"""Events: who did what to whom, tied to the support and certainty behind it."""

from __future__ import annotations

from conftest import analyze
from reportedly.evaluation.cameo import score
from reportedly.model import Certainty, Report


def test_sessions_offered_resignation_to_trump(sample_report: Report) -> None:
    offers = [e for e in sample_report.events if e.actor_name == "Jeff Sessions" and e.predicate == "offer resignation"]
    assert offers, [(e.actor_name, e.predicate) for e in sample_report.events]
    offer = offers[0]
    assert offer.target_name == "Trump" and offer.cameo == "03"
    group = sample_report.event_group(offer)
    # "Sessions made the suggestion", according to the anonymous pair, is the same event
    supported = [e for e in group if e.attribution_id is not None]
    chains = [sample_report.chain(sample_report.attribution(e.attribution_id)) for e in supported]
    assert ["Slate", "The Washington Post", "people close to the White House"] in chains
    assert all(e.outlet_certainty != Certainty.certain for e in group)  # reportedly / relayed: never certain


def test_trump_refused_the_offer(sample_report: Report) -> None:
    refusals = [e for e in sample_report.events if e.actor_name == "Trump" and e.predicate == "refuse"]
    assert refusals
    first = refusals[0]
    target = sample_report.event(first.target_event_id)
    assert target is not None and target.predicate.startswith("offer")  # the target is the offer itself
    assert first.cameo == "12" and first.tense == "past" and not first.negated
    assert first.attribution_id is None and first.outlet_certainty == Certainty.certain  # the outlet says so itself


def test_event_inside_attributed_content_is_supported_by_its_source() -> None:
    r = analyze("Two officials said that the army attacked the village on Tuesday.")
    (attack,) = [e for e in r.events if e.predicate == "attack"]
    (a,) = r.attributions
    assert attack.attribution_id == a.id
    assert attack.certainty == Certainty.certain and attack.outlet_certainty == Certainty.probable


def test_negation_tense_and_hedges() -> None:
    r = analyze("Russia did not invade the country. Germany may sanction Iran next year. France will meet Italy on Monday.")
    by = {e.predicate: e for e in r.events}
    assert by["invade"].negated and by["invade"].certainty == Certainty.negated and by["invade"].tense == "past"
    assert by["sanction"].certainty == Certainty.possible
    assert by["meet"].tense == "future" and by["meet"].target_name == "Italy" and by["meet"].cameo == "04"


def test_cameo_scoring_by_hand() -> None:
    res = score([["04", "04", "12"], []], [["04", "11"], ["01"]])
    # one hit (04), misses 04 and 12, false alarms 11 and 01
    assert res["overall"] == {"precision": 0.333, "recall": 0.333, "f1": 0.333, "gold": 3, "pred": 3}
    assert res["per_class"]["04"] == {"precision": 1.0, "recall": 0.5, "f1": 0.667, "gold": 2, "pred": 1}

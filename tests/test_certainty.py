"""Hedges, negation scope and claim certainty."""

from __future__ import annotations

import pytest

from conftest import analyze
from reportedly.model import Certainty


def _outlet_claim(text: str) -> Certainty:
    r = analyze(text)
    (claim,) = [c for c in r.claims if c.attribution_id is None]
    return claim.certainty


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sessions offered his resignation to the president.", Certainty.certain),
        ("Sessions reportedly offered his resignation to the president.", Certainty.probable),
        ("Sessions apparently offered his resignation to the president.", Certainty.probable),
        ("Sessions allegedly offered his resignation to the president.", Certainty.probable),
        ("Sessions probably offered his resignation to the president.", Certainty.probable),
        ("Sessions may resign before the end of the month.", Certainty.possible),
        ("Sessions might resign before the end of the month.", Certainty.possible),
        ("It is unclear whether Sessions will resign.", Certainty.unknown),
        ("Sessions did not offer his resignation to the president.", Certainty.negated),
        ("Sessions may not resign before the end of the month.", Certainty.possible),
    ],
)
def test_claim_certainty(text: str, expected: Certainty) -> None:
    assert _outlet_claim(text) == expected


def test_negation_inside_a_subordinate_clause_does_not_negate_the_claim() -> None:
    assert _outlet_claim("Although he did not like the decision, Trump still had faith in Sessions.") == Certainty.certain


def test_hedge_in_a_relative_clause_stays_there() -> None:
    assert _outlet_claim("The senator, who reportedly met the ambassador, left the room.") == Certainty.certain


def test_may_as_a_month_is_not_a_hedge() -> None:
    r = analyze("The meeting took place in May in Washington.")
    assert [h.cue.text for h in r.hedges] == []


def test_hedge_on_the_cue_weakens_the_attributed_claim() -> None:
    r = analyze("Trump apparently believes the responsibility belongs to Sessions.")
    (a,) = r.attributions
    claim = r.claim_for(a)
    assert claim is not None and claim.certainty == Certainty.probable


def test_attributed_claim_keeps_its_own_hedges() -> None:
    r = analyze("Officials said the bridge might reopen next week.")
    (a,) = r.attributions
    assert r.claim_for(a).certainty == Certainty.possible


def test_hedge_scope_is_its_clause() -> None:
    r = analyze("It is unclear when Sessions offered to resign.")
    (h,) = r.hedges
    assert h.cue.text == "unclear" and h.kind == Certainty.unknown
    assert h.scope is not None and "Sessions offered to resign" in h.scope.text

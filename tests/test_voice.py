"""Voice: the outlet's reporting versus its own opinion."""

from __future__ import annotations

from conftest import analyze
from reportedly.model import Voice


def _voices(text: str) -> dict[str, Voice]:
    return {v.sentence.text: v.voice for v in analyze(text).voice}


def test_plain_reporting() -> None:
    v = _voices("The council voted 7-2 on Tuesday to approve the budget. The mayor signed it the next day.")
    assert set(v.values()) == {Voice.reporting}


def test_evaluative_words_make_opinion() -> None:
    v = _voices("The council voted to approve the budget. This is an absurd and shameful waste of money.")
    assert v["The council voted to approve the budget."] == Voice.reporting
    assert v["This is an absurd and shameful waste of money."] == Voice.opinion


def test_writer_addressing_the_reader() -> None:
    v = _voices("Hold me? The council voted to approve the budget.")
    assert v["Hold me?"] == Voice.opinion


def test_evaluation_inside_a_quote_is_the_source_voice() -> None:
    v = _voices("“This is an absurd and shameful waste of money,” the councillor said.")
    assert set(v.values()) == {Voice.reporting}


def test_evaluation_inside_attributed_content_is_reporting() -> None:
    v = _voices("The councillor said the budget was an absurd and shameful waste of money.")
    assert set(v.values()) == {Voice.reporting}


def test_short_asides_in_an_opinion_paragraph() -> None:
    v = _voices("The council approved the budget.\n\nSoon there will be no money left. Which is a bad thing. Probably.")
    assert v["The council approved the budget."] == Voice.reporting
    assert v["Soon there will be no money left."] == Voice.opinion
    assert v["Probably."] == Voice.opinion

"""Attribution rules on short hand-written cases."""

from __future__ import annotations

from conftest import analyze
from reportedly.model import AttributionKind, Report, SourceKind


def _one(report: Report):
    assert len(report.attributions) == 1, [a.cue.text for a in report.attributions]
    return report.attributions[0]


def test_no_attribution() -> None:
    r = analyze("The bridge reopened on Monday after three weeks of repairs. Traffic was light in the morning.")
    assert r.attributions == []
    assert [c.attribution_id for c in r.claims] == [None, None]  # both are the outlet's own claims


def test_quote_split_around_the_cue() -> None:
    r = analyze("“We will win this fight,” the senator said, “and we will win it soon.”")
    a = _one(r)
    assert a.kind == AttributionKind.direct
    assert a.cue.text == "said" and a.source.text == "the senator"
    assert [p.text for p in a.content] == ["“We will win this fight,”", "“and we will win it soon.”"]


def test_typewriter_quotes_are_quotes() -> None:
    # The New York Times' archive text (and PolNeAR's copy of it) marks quotations with two
    # apostrophes, or two backticks to open: the same reading as curly quotes, marks and all.
    r = analyze("''We will win this fight,'' the senator said. ''And we will win it soon.''")
    a = _one(r)
    assert a.kind == AttributionKind.direct
    assert a.cue.text == "said" and a.source.text == "the senator"
    assert [p.text for p in a.content] == ["''We will win this fight,''", "''And we will win it soon.''"]
    b = _one(analyze("``Taxes will rise,'' said Mr. Burman, an economist."))
    assert b.kind == AttributionKind.direct and b.source.text == "Mr. Burman, an economist"
    assert [p.text for p in b.content] == ["``Taxes will rise,''"]


def test_quote_across_paragraphs() -> None:
    text = "“This is the first paragraph of a long quote.\n\n“And this is the second paragraph,” said Maria Lopez, the mayor."
    a = _one(analyze(text))
    assert a.kind == AttributionKind.direct
    assert [p.text for p in a.content] == ["“This is the first paragraph of a long quote.", "“And this is the second paragraph,”"]
    assert a.source.text.startswith("Maria Lopez")


def test_nested_quotes_stay_inside_the_outer_quote() -> None:
    r = analyze("“He told me ‘never again’ and meant it,” Smith said.")
    a = _one(r)
    assert a.kind == AttributionKind.direct
    assert a.content_text == "“He told me ‘never again’ and meant it,”"
    assert r.source(a.source_id).name == "Smith"


def test_paragraph_final_he_said_resolves_to_the_person() -> None:
    text = "Senator Elizabeth Warren spoke to reporters on Tuesday.\n\nThe bill is flawed and will fail in the Senate, she said."
    a = _one(analyze(text))
    assert a.content_text == "The bill is flawed and will fail in the Senate"
    assert a.source.text == "she"


def test_paragraph_final_said_after_a_multi_sentence_quote() -> None:
    r = analyze("“The plan is dead. Nobody in this building wants it,” Warren said.")
    a = _one(r)
    assert a.kind == AttributionKind.direct
    assert a.content_text == "“The plan is dead. Nobody in this building wants it,”"


def test_pronoun_source_resolves_to_the_last_person() -> None:
    r = analyze("Senator Elizabeth Warren said on Tuesday that the bill was flawed. She added that it would fail.")
    first, second = r.attributions
    assert first.source_id == second.source_id
    assert r.source(second.source_id).name == "Elizabeth Warren"
    assert r.source(second.source_id).kind == SourceKind.person


def test_parenthetical_cue_is_cut_out_of_the_content() -> None:
    a = _one(analyze("The economy, the minister said, is stronger than ever."))
    assert [p.text for p in a.content] == ["The economy", "is stronger than ever"]


def test_anonymous_group_count_and_anaphora() -> None:
    r = analyze(
        "Two officials who spoke on condition of anonymity said the deal may collapse. "
        "The officials added that talks would not resume."
    )
    first, second = r.attributions
    src = r.source(first.source_id)
    assert src.anonymous and src.count == 2 and src.descriptor == "officials"
    assert second.source_id == first.source_id


def test_according_to_anonymous_people() -> None:
    r = analyze("The president wants to cut taxes, according to three people familiar with the plan.")
    acc = next(a for a in r.attributions if a.kind == AttributionKind.according_to)
    src = r.source(acc.source_id)
    assert src.anonymous and src.count == 3 and src.descriptor == "people familiar with the plan"
    assert acc.content_text == "The president wants to cut taxes"
    wants = next(a for a in r.attributions if a.cue.text == "wants")
    assert wants.kind == AttributionKind.belief_or_intent and wants.parent_id == acc.id


def test_document_and_role_sources() -> None:
    r = analyze("The report found that emissions rose sharply. A White House spokesman said the figures were wrong.")
    found, said = r.attributions
    assert r.source(found.source_id).kind == SourceKind.document
    spokesman = r.source(said.source_id)
    assert spokesman.kind == SourceKind.role and not spokesman.anonymous


def test_definite_description_resolves_to_recent_person() -> None:
    r = analyze("Jeff Sessions left the Senate in February. The former senator said he had no regrets.")
    a = _one(r)
    assert r.source(a.source_id).name == "Jeff Sessions"


def test_outlet_block_citation_relays_next_paragraph() -> None:
    text = (
        "The story broke overnight.\n\nFrom Reuters:\n\n"
        "The company will cut 500 jobs, two executives said.\n\nShares fell after the announcement."
    )
    r = analyze(text)
    block = next(a for a in r.attributions if a.rule == "block-citation")
    assert r.source(block.source_id).name == "Reuters"
    assert block.content_text == "The company will cut 500 jobs, two executives said"  # full stop left out, as PolNeAR does
    inner = next(a for a in r.attributions if a.cue.text == "said")
    assert inner.parent_id == block.id
    assert r.chain(inner) == ["this outlet", "Reuters", "executives"]


def test_quote_after_the_cue_sentence_joins_the_same_attribution() -> None:
    r = analyze("“The plan is dead,” she said. “Nobody in this building wants it.”")
    a = _one(r)
    assert [p.text for p in a.content] == ["“The plan is dead,”", "“Nobody in this building wants it.”"]


def test_quote_opening_a_later_paragraph_continues_the_speaker() -> None:
    r = analyze("“The plan is dead,” Warren said.\n\n“Nobody in this building wants it, and nobody ever did.”")
    first, second = r.attributions
    assert second.rule == "quote-continuation" and second.source_id == first.source_id
    assert second.content_text == "“Nobody in this building wants it, and nobody ever did.”"


def test_partly_quoted_clause_is_mixed() -> None:
    a = _one(analyze("Politifact said that Trump’s statement was “true.”"))
    assert a.kind == AttributionKind.mixed
    assert a.content_text == "that Trump’s statement was “true.”"


def test_cue_keeps_auxiliaries_and_a_following_colon() -> None:
    r = analyze("The campaign has now said that it will appeal.\n\nThe senator said:\n\nThe vote was rigged from the start.")
    first, second = r.attributions
    assert first.cue.text == "has now said"
    assert second.cue.text == "said:" and second.content_text == "The vote was rigged from the start"


def test_edges_follow_polnear_conventions() -> None:
    from reportedly.attribution.edges import polish_content, polish_cue

    text = "He said the U.S. will act. ''Of course, I pay taxes,'' he said. She called for an inquiry."
    said = text.index("the U.S.")
    # A reported clause leaves the full stop out, an abbreviation keeps its own.
    assert polish_content(text, [(said, text.index(" will") + 9)]) == [(said, text.index("act") + 3)]
    assert polish_content(text, [(said, said + 8)]) == [(said, said + 8)]
    # A content just inside typewriter quotes takes them.
    inner = text.index("Of course")
    (quoted,) = polish_content(text, [(inner, text.index(",''"))])
    assert text[quoted[0] : quoted[1]] == "''Of course, I pay taxes,''"
    # A quotation opened inside a content closes inside it, whatever the marks; a closed one stays.
    mixed = "The tax ''is a misguided approach,'' said Mr. Burman, and “a mistake.” Then he left."
    (m,) = polish_content(mixed, [(0, mixed.index(","))])
    assert mixed[m[0] : m[1]] == "The tax ''is a misguided approach,''"
    curly = mixed.index("“a mistake")
    (c,) = polish_content(mixed, [(curly - 4, mixed.index(".”"))])
    assert mixed[c[0] : c[1]] == "and “a mistake.”"
    assert polish_content(mixed, [(0, mixed.index(",''") + 3)]) == [(0, mixed.index(",''") + 3)]
    # A clause leaves the comma after it out; a quotation keeps its own.
    aside = "Trump said that although he disliked it, these people said, he still had faith."
    (a,) = polish_content(aside, [(aside.index("although"), aside.index(" these"))])
    assert aside[a[0] : a[1]] == "although he disliked it"
    (q,) = polish_content(mixed, [(0, mixed.index(",''") + 1)])
    assert mixed[q[0] : q[1]] == "The tax ''is a misguided approach,''"
    # A lone preposition between cue and content joins the cue; a noun does not.
    cue = (text.index("called"), text.index("called") + 6)
    inquiry = [(text.index("an inquiry"), text.index("an inquiry") + 10)]
    assert text[slice(*polish_cue(text, cue, inquiry))] == "called for"
    told = "He told reporters the plan."
    assert polish_cue(told, (3, 7), [(18, 26)]) == (3, 7)


def test_layout_names_the_speaker_without_a_verb() -> None:
    def found(text: str) -> list[tuple[str | None, str, str, str | None]]:
        return [(a.source.text if a.source else None, a.cue.text, a.content_text, a.rule) for a in analyze(text).attributions]

    # A transcript: the speaker's label is the source, the colon the cue.
    transcript = '"WALLACE: Let’s start with breaking news."\n\n"PENCE: Well, look, it is a show."'
    assert found(transcript) == [
        ("WALLACE", ":", "Let’s start with breaking news", "speaker-label"),
        ("PENCE", ":", "Well, look, it is a show", "speaker-label"),
    ]
    # A lone label is not a transcript.
    assert not any(r == "speaker-label" for *_, r in found("UPDATE: The vote was delayed.\n\nMore text."))
    # A headline "Name: claim"; "The Latest: ..." names no one.
    (head,) = found("Pence: Gennifer Flowers Won’t Be at Debate.\n\nThe governor spoke on Sunday.")
    assert head[:3] == ("Pence", ":", "Gennifer Flowers Won’t Be at Debate")
    assert not any(r == "headline-label" for *_, r in found("The Latest: Trump urges supporters to vote.\n\nText."))
    # A gallery of pull quotes, one per line, the speaker after a dash.
    gallery = "“He is ignorant of our culture.” ― Pamela Padilla\n“Trump scares me.”\xa0― Krystal Correa.\n\nMore."
    quotes = [a for a in found(gallery) if a[3] == "pull-quote"]
    assert quotes == [
        ("Pamela Padilla", "―", "“He is ignorant of our culture.”", "pull-quote"),
        ("Krystal Correa", "―", "“Trump scares me.”", "pull-quote"),
    ]


def test_relative_pronoun_is_the_source_and_resolves_to_its_noun() -> None:
    """PolNeAR's annotators mark "who" as the Source of a cue inside a relative clause; reportedly
    keeps that span and credits the claim to the noun the clause hangs on."""
    text = "The plan was criticised by Victor Cha, who said that the talks had failed."
    r = analyze(text)
    a = next(a for a in r.attributions if a.cue.text == "said")
    assert a.source.text == "who"
    assert r.source(a.source_id).name == "Victor Cha"
    assert r.source(a.source_id).kind == SourceKind.person

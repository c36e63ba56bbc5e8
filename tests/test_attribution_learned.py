"""The fast learned attribution extractor (a CRF over the parse): decoding, training, scores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from spacy.tokens import Doc

import reportedly
from reportedly.attribution.learned import ARTEFACT, bio_labels, link, meta_path
from reportedly.evaluation.brat import SpanSet
from reportedly.evaluation.polnear import load_split
from reportedly.evaluation.runner import evaluate
from reportedly.evaluation.scoring import score_document, total
from reportedly.ingest import paragraph_spans
from reportedly.pipeline.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "src/reportedly/models"
sys.path.insert(0, str(ROOT / "scripts"))


def _spansets(found: list[reportedly.attribution.extractor.Candidate]) -> list[SpanSet]:
    return [
        SpanSet(((c.source.start_char, c.source.end_char),) if c.source is not None else None, (c.cue,), tuple(c.content) or None)
        for c in found
    ]


def test_gold_tags_decode_back_to_the_gold_attributions() -> None:
    """Tagging gold attributions BIO and linking the tags again must give the gold spans back: the
    decoder is not what limits the extractor (discontinuous contents, no-break spaces, sources
    and contents in other sentences than their cue)."""
    docs = load_split("dev", limit=12)
    nlp = load_nlp()
    scores = []
    for d in docs:
        doc = nlp(d.text)
        paras = [(p.start, p.end) for p in paragraph_spans(d.text)]
        scores.append(score_document(d.text, d.attributions, _spansets(link(doc, bio_labels(doc, d.attributions), paras))))
    counts = total(scores)
    assert counts[("cue", "exact")].f1 >= 0.98
    assert counts[("source", "exact")].f1 >= 0.93
    assert counts[("content", "exact")].f1 >= 0.90


def test_link_joins_a_quote_split_by_its_cue() -> None:
    text = "“We will win,” the senator said, “and we will win soon.”"
    doc = load_nlp()(text)
    words = [t.text for t in doc]
    tags = ["O"] * len(doc)
    tags[1] = "B-CON"
    for i in range(2, words.index(",") + 1):
        tags[i] = "I-CON"
    tags[words.index("the")] = "B-SRC"
    tags[words.index("senator")] = "I-SRC"
    tags[words.index("said")] = "B-CUE"
    start = words.index("and")
    tags[start] = "B-CON"
    for i in range(start + 1, len(doc) - 2):
        tags[i] = "I-CON"
    (a,) = link(doc, tags, [(0, len(text))])
    assert text[a.cue[0] : a.cue[1]] == "said"
    assert a.source is not None and a.source.text == "the senator"
    assert [text[s:e] for s, e in a.content] == ["We will win,", "and we will win soon"]


def _tagged(text: str, runs: list[tuple[str, str]]) -> tuple[Doc, list[str]]:
    """The doc of ``text`` and BIO tags putting each (words, role) run where its words first occur."""
    doc = load_nlp()(text)
    tags = ["O"] * len(doc)
    for words, role in runs:
        start = text.index(words)
        span = doc.char_span(start, start + len(words))
        assert span is not None, words
        tags[span.start] = f"B-{role}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{role}"
    return doc, tags


def test_link_leaves_another_attributions_content_out() -> None:
    """A content piece beyond the attribution's content, with words between (here a cue the tagger
    missed), belongs to another attribution; a piece that carries the content on joins it."""
    text = "The senator said the bill would pass. Critics argued it would fail."
    doc, tags = _tagged(text, [("The senator", "SRC"), ("said", "CUE"), ("the bill would pass", "CON"), ("it would fail", "CON")])
    (a,) = link(doc, tags, [(0, len(text))])
    assert [text[s:e] for s, e in a.content] == ["the bill would pass"]

    text = "The senator said the bill would pass — and quickly."
    doc, tags = _tagged(text, [("The senator", "SRC"), ("said", "CUE"), ("the bill would pass", "CON"), ("and quickly", "CON")])
    (a,) = link(doc, tags, [(0, len(text))])
    assert [text[s:e] for s, e in a.content] == ["the bill would pass — and quickly"]


def test_link_gives_a_cue_that_carries_on_another_its_source() -> None:
    """PolNeAR marks one Source for "said ..., adding ...": the second cue, which the tags leave
    without a Source piece of its own, shares the first one's."""
    text = "Trump said the bill would pass, adding that it would help workers."
    doc, tags = _tagged(
        text,
        [
            ("Trump", "SRC"),
            ("said", "CUE"),
            ("the bill would pass", "CON"),
            ("adding", "CUE"),
            ("that it would help workers", "CON"),
        ],
    )
    said, adding = link(doc, tags, [(0, len(text))])
    assert said.source is not None and said.source.text == "Trump"
    assert adding.source is not None and adding.source.text == "Trump"
    assert [text[s:e] for s, e in adding.content] == ["that it would help workers"]

    # A cue of another sentence shares nothing.
    text = "Trump said the bill would pass. Critics argued it would fail."
    doc, tags = _tagged(
        text, [("Trump", "SRC"), ("said", "CUE"), ("the bill would pass", "CON"), ("argued", "CUE"), ("it would fail", "CON")]
    )
    _, argued = link(doc, tags, [(0, len(text))])
    assert argued.source is None


def test_an_intention_verb_needs_its_own_clause_to_be_a_cue() -> None:
    """ "Trump refused the offer" is an act whatever else the content holds: a clause the tagger
    joined from before the cue does not make it a claim; "refused to comment" stays a cue."""
    from reportedly.attribution.extractor import Candidate
    from reportedly.attribution.learned import act_or_hedge

    text = "It is unclear when Sessions offered to resign, and Trump refused the offer. Trump refused to comment."
    doc = load_nlp()(text)
    acted, said = (t for t in doc if t.text == "refused")
    offer, comment = text.index("the offer"), text.index("to comment")
    before = (0, text.index(" refused"))
    for content in ([(offer, offer + 9)], [before, (offer, offer + 9)]):
        assert act_or_hedge(Candidate("belief-or-intent", (acted.idx, acted.idx + 7), content, "cnn", cue_token=acted))
    claim = Candidate("belief-or-intent", (said.idx, said.idx + 7), [(comment, comment + 10)], "cnn", cue_token=said)
    assert not act_or_hedge(claim)


def test_a_hedge_adverb_as_cue_is_the_outlets_hedge_but_a_modal_in_the_cue_is_not() -> None:
    """ "Trump reportedly [offered]" hedges the outlet's claim, so a cue holding "reportedly" is never
    an attribution; "The campaign could not explain why" is the campaign's (hedged) saying, which
    PolNeAR annotates: a modal in the verb group leaves the cue standing."""
    from reportedly.attribution.extractor import Candidate
    from reportedly.attribution.learned import act_or_hedge

    text = "The campaign could not explain why the ad ran. The senator reportedly believed the polls were wrong."
    doc = load_nlp()(text)
    could = next(t for t in doc if t.text == "could")
    explain = next(t for t in doc if t.text == "explain")
    believed = next(t for t in doc if t.text == "believed")
    why = text.index("why")
    polls = text.index("the polls")
    modal = Candidate("belief-or-intent", (could.idx, explain.idx + 7), [(why, text.index("."))], "cnn", cue_token=explain)
    assert not act_or_hedge(modal)
    adverb = text.index("reportedly")
    hedged = Candidate("belief-or-intent", (adverb, believed.idx + 8), [(polls, len(text) - 1)], "cnn", cue_token=believed)
    assert act_or_hedge(hedged)


def test_a_stance_on_a_thing_is_an_attribution_and_an_event() -> None:
    """PolNeAR counts "Trump attacked [Machado]" as an attribution (a stance on a thing); fast
    reports it so, and its verb stays an event between the two actors and a claim of the outlet's
    own (until the sixteenth round a word under half its PolNeAR uses a cue needed a clause as its
    content)."""
    from reportedly import get_analyzer
    from reportedly.model import Article, ArticleMeta

    text = "Donald Trump attacked Alicia Machado in early-morning tweets on Friday, three days after the debate."
    report = get_analyzer("fast").analyze(Article(id="t", text=text, meta=ArticleMeta(), paragraphs=paragraph_spans(text)))
    [attribution] = report.attributions
    assert (attribution.source and attribution.source.text, attribution.cue.text) == ("Donald Trump", "attacked")
    assert [c.text for c in attribution.content] == ["Alicia Machado"]
    assert [(e.predicate, e.actor and e.actor.text) for e in report.events] == [("attack", "Donald Trump")]
    # The act is the outlet's own assertion too: its sentence keeps the outlet's claim.
    own = [c for c in report.claims if c.attribution_id is None]
    assert [c.content[0].text for c in own] == [text.rstrip(".")]


def test_retraining_reproduces_the_recorded_scores(tmp_path: Path) -> None:
    """CRFsuite's L-BFGS has no randomness: the same data and settings give the same dev scores.
    The fixture was written by the same command (a small slice, so that it runs in seconds)."""
    import train_attribution

    out = tmp_path / "m.crfsuite"
    args = ["--limit", "30", "--dev-limit", "10", "--max-iter", "30", "--cache", str(tmp_path / "cache"), "--out", str(out)]
    assert train_attribution.main(args) == 0
    got = json.loads(meta_path(out).read_text())["dev_f1"]
    want = json.loads((ROOT / "tests/fixtures/attribution_slice.json").read_text())["dev_f1"]
    for key, value in want.items():
        assert got[key]["f1"] == pytest.approx(value["f1"], abs=0.005), key


def test_shipped_model_card_scores_hold_on_dev() -> None:
    """The dev figures written beside the shipped CRF (and quoted in its card) are what it measures
    now, rules first, as fast mode ran it until the twelfth round (``Analyzer(learned=...)``)."""
    from reportedly.attribution.learned import CRFExtractor
    from reportedly.pipeline.analyzer import Analyzer

    recorded = json.loads(meta_path(MODELS / ARTEFACT).read_text())["dev_f1"]
    result = evaluate(load_split("dev"), "reportedly", analyzer=Analyzer("fast", learned=CRFExtractor()))
    for role in ("source", "cue", "content"):
        assert result["overall"][role]["exact"]["f1"] == pytest.approx(recorded[f"{role}/exact"]["f1"], abs=0.005), role


def test_shipped_model_is_a_few_megabytes() -> None:
    assert (MODELS / ARTEFACT).stat().st_size < 5_000_000


def test_fast_beats_the_rules_on_a_dev_slice() -> None:
    docs = load_split("dev", limit=20)
    fast = evaluate(docs, "reportedly", model="fast")["overall"]
    rules = evaluate(docs, "reportedly", model="rules")["overall"]
    assert fast["source"]["exact"]["f1"] > rules["source"]["exact"]["f1"]
    assert fast["cue"]["exact"]["f1"] > rules["cue"]["exact"]["f1"]


def test_unknown_model_is_a_clear_error() -> None:
    from reportedly.errors import InputError

    with pytest.raises(InputError, match="unknown attribution model"):
        reportedly.analyze("Officials said the bridge would reopen.", model="huge")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reportedly", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
        timeout=300,
    )


def test_cli_model_option_on_analyze_and_ingest(tmp_path: Path) -> None:
    """``--model`` reaches the extractor: on a PolNeAR dev article the fast model finds
    attributions the rules miss, through ``analyze`` and through ``ingest`` (in worker processes)."""
    # "The Obama administration has publicly signaled willingness to change ACA", "He proposes doing
    # away with the government mandate": attributions the rules miss and the CRF adds.
    doc = next(d for d in load_split("dev", limit=13) if d.name.startswith("breitbart_2016-10-04_bill-clinton-calls-obamacare"))
    article = tmp_path / "a.txt"
    article.write_text(doc.text, encoding="utf-8")
    counts = {}
    for model in ("rules", "fast"):
        proc = _cli("analyze", str(article), "--model", model, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        counts[model] = len(json.loads(proc.stdout)["attributions"])
    assert counts["fast"] > counts["rules"]

    from reportedly.corpus.store import Store

    stored = {}
    for model in ("rules", "fast"):
        db = tmp_path / f"{model}.sqlite"
        proc = _cli("ingest", str(article), "--db", str(db), "--workers", "2", "--model", model, "--no-stories")
        assert proc.returncode == 0, proc.stderr
        with Store(db) as store:
            (row,) = store.query("SELECT COUNT(*) FROM attributions")
            stored[model] = row[0]
    assert stored == counts

    bad = _cli("analyze", str(article), "--model", "huge")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "huge" in bad.stderr

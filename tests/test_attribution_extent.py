"""The extent model: a Content's start and end moved among the clause edges near them (accurate mode)."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from reportedly.attribution.extent import ARTEFACTS, CONTENT_PROBS, REACH, ExtentModel, load_extent
from reportedly.attribution.extractor import Candidate, extract
from reportedly.model import AttributionKind
from reportedly.pipeline import doccache as dc
from reportedly.pipeline.analyzer import Analyzer
from reportedly.pipeline.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
SLICE = ROOT / "tests/fixtures/attribution_extent_slice.json"
sys.path.insert(0, str(ROOT / "scripts"))

# Evidence for an end where the sentence ends.
SENTENCE_END = {"sents|end=0|True": 2.0}


def _model(end: dict[str, float], margin: float = 0.0, start: dict[str, float] | None = None) -> ExtentModel:
    return ExtentModel(
        {
            "reach": 30,
            "end": {"margin": margin, "weights": end},
            "start": {"margin": margin, "weights": start or {}},
        }
    )


def _said(text: str, word: str = "said", content_from: str = "the bridge", content_to: str = " next") -> Candidate:
    cue = (text.index(word), text.index(word) + len(word))
    return Candidate(
        kind=AttributionKind.indirect,
        cue=cue,
        content=[(text.index(content_from), text.index(content_to))],
        rule="test",
    )


def test_refine_moves_an_end_to_a_clause_edge_only_past_the_margin() -> None:
    text = "The mayor said the bridge will close next week, because of repairs to the deck."
    doc = load_nlp()(text)

    def refined(model: ExtentModel) -> str:
        c = _said(text)
        model.refine(doc, [c])
        ((s, e),) = c.content
        return text[s:e]

    # The end moves past "next week" and the adjunct clause, to where the sentence ends.
    assert refined(_model(SENTENCE_END)) == "the bridge will close next week, because of repairs to the deck"
    # Evidence smaller than the margin leaves the drawn end, as does a model with no evidence.
    assert refined(_model(SENTENCE_END, margin=2.5)) == "the bridge will close"
    assert refined(_model({})) == "the bridge will close"


def test_refine_never_moves_another_attributions_cue_into_a_content() -> None:
    text = "The mayor said the bridge will close next week, the engineers said."
    doc = load_nlp()(text)
    first = _said(text)
    second_at = text.rindex("said")
    second = Candidate(
        kind=AttributionKind.indirect,
        cue=(second_at, second_at + 4),
        content=[(text.index("the bridge"), text.index(", the engineers"))],
        rule="test",
    )
    alone = _said(text)
    _model(SENTENCE_END).refine(doc, [alone])
    assert text[alone.content[0][0] : alone.content[-1][1]].endswith("the engineers said")
    # With the engineers' attribution present the same evidence may not swallow its cue.
    _model(SENTENCE_END).refine(doc, [first, second])
    assert not any(s <= second_at < e for s, e in first.content)


def test_refine_reads_the_taggers_content_probabilities() -> None:
    """The features hold the taggers' P(Content) around each candidate: with evidence for ending
    where they stop believing in Content, the end follows their probabilities."""
    text = "The mayor said the bridge will close next week, because of repairs to the deck."
    nlp = load_nlp()
    # Evidence for an end token the taggers hold as Content when they hold none of the next three.
    believed = {"pc|pcn=4|0": 3.0}

    def refined(until: str) -> str:
        doc = nlp(text)
        probs = np.zeros((len(doc), 2))
        end = text.index(until) + len(until)
        for t in doc:
            if text.index("the bridge") <= t.idx < end:
                probs[t.i] = (0.0, 0.95)
        dc.keep(doc, CONTENT_PROBS, probs)
        c = _said(text)
        _model(believed).refine(doc, [c])
        return text[c.content[0][0] : c.content[-1][1]]

    assert refined("week") == "the bridge will close next week"
    assert refined("deck") == "the bridge will close next week, because of repairs to the deck"


def test_only_accurate_ships_an_extent_model() -> None:
    (name,) = ARTEFACTS.values()
    path = resources.files("reportedly.models") / name
    assert path.is_file() and len(path.read_bytes()) < 1_000_000
    data = json.loads(path.read_text(encoding="utf-8"))
    # Fitted on the accurate mode's own train contents; it gained on dev, where nothing was chosen.
    assert data["mode"] == "accurate" and data["train_contents"]["end"] > 15_000
    assert data["dev_exact_f1"]["content"] > data["dev_exact_f1_without"]["content"]
    assert load_extent("accurate") is not None
    assert load_extent("fast") is None and load_extent("rules") is None
    assert Analyzer("fast", settle=False).extent is None


def test_accurate_taggers_keep_their_content_probabilities_on_the_doc() -> None:
    from reportedly.attribution.transformer import load_accurate_tagger

    text = "The mayor said on Monday that the bridge will close next week for repairs."
    doc = load_nlp()(text)
    paras = [(0, len(text))]
    (found,) = [c for c in load_accurate_tagger().extract(doc, paras, extract(doc, paras)) if c.content]
    probs = dc.kept(doc, CONTENT_PROBS)
    assert isinstance(probs, np.ndarray) and probs.shape == (len(doc), 2)
    read = ~np.isnan(probs[:, 0])
    assert read.sum() > len(doc) // 2 and np.all(probs[read].sum(axis=1) <= 1.0 + 1e-6)
    inside = [t.i for t in doc if found.content[0][0] <= t.idx < found.content[-1][1]]
    outside = [t.i for t in doc if t.idx < found.cue[0]]
    assert probs[inside].sum(axis=1).min() > 0.5 > probs[outside].sum(axis=1).max()


def test_retraining_a_slice_reproduces_its_recorded_model(tmp_path: Path) -> None:
    """L-BFGS from zero has no randomness; the fixture was written by this command. The taggers'
    probabilities (bfloat16 where the CPU has it natively, float32 elsewhere) may differ in the
    last digits between machines, so the dev scores are held to the edge test's tolerance."""
    import train_attribution_extent

    recorded = json.loads(SLICE.read_text(encoding="utf-8"))
    out = tmp_path / "extent.json"
    assert train_attribution_extent.main([*recorded["argv"], "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["train_contents"] == recorded["train_contents"]
    assert all(written[side]["margin"] in train_attribution_extent.MARGINS for side in ("end", "start"))
    # Both sides learned something, and the file reads back as the model the analyser would run.
    assert written["end"]["weights"] and written["start"]["weights"]
    assert ExtentModel(written).reach == written["reach"] == REACH
    for role, want in recorded["dev_exact_f1"].items():
        assert written["dev_exact_f1"][role] == pytest.approx(want, abs=0.005), role

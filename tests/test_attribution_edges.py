"""Attribution edges: PolNeAR's conventions and the learned edge model that moves span edges."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from reportedly.attribution.edges import EDGES_ARTEFACTS, EdgeModel, load_edges
from reportedly.attribution.extractor import Candidate
from reportedly.evaluation.polnear import load_split
from reportedly.evaluation.runner import evaluate
from reportedly.model import AttributionKind
from reportedly.pipeline.analyzer import Analyzer
from reportedly.pipeline.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
SLICE = ROOT / "tests/fixtures/attribution_edges_slice.json"
sys.path.insert(0, str(ROOT / "scripts"))


def _model(start: dict[str, float], end: dict[str, float], margin: float = 0.0, role: str = "content") -> EdgeModel:
    sides = {"start": {"intercept": 0.0, "weights": start}, "end": {"intercept": 0.0, "weights": end}}
    return EdgeModel({"window": 4, "roles": {role: {"margin": margin, **sides}}})


def test_refine_moves_an_edge_only_past_the_margin() -> None:
    text = "The mayor said that the bridge will close next week for repairs."
    doc = load_nlp()(text)
    content = (text.index("the bridge"), text.index(" next week"))
    cue = (text.index("said"), text.index("said") + 4)

    def refined(model: EdgeModel) -> str:
        c = Candidate(kind=AttributionKind.indirect, cue=cue, content=[content], rule="test")
        model.refine(doc, [c])
        ((s, e),) = c.content
        return text[s:e]

    # Evidence for "that" opening the content and for the clause running to "repairs".
    moves = _model({"w=that": 2.0}, {"w=repairs": 2.0})
    assert refined(moves) == "that the bridge will close next week for repairs"
    # The same evidence does not beat a margin larger than itself: the edges stay.
    assert refined(_model({"w=that": 2.0}, {"w=repairs": 2.0}, margin=2.5)) == "the bridge will close"
    # A model with no evidence keeps the extractor's edges, and one for another role leaves them.
    assert refined(_model({}, {})) == "the bridge will close"
    assert refined(_model({"w=that": 2.0}, {"w=repairs": 2.0}, role="source")) == "the bridge will close"


def test_refine_never_reuses_the_scores_of_another_model() -> None:
    # The scores cached on a Doc belong to one model: a model made after another one was freed can
    # get the same id(), and must not read the freed model's scores.
    text = "The mayor said that the bridge will close next week for repairs."
    doc = load_nlp()(text)
    content = (text.index("the bridge"), text.index(" next week"))
    cue = (text.index("said"), text.index("said") + 4)
    for _ in range(50):
        moved = Candidate(kind=AttributionKind.indirect, cue=cue, content=[content], rule="test")
        _model({"w=that": 2.0}, {"w=repairs": 2.0}).refine(doc, [moved])
        kept = Candidate(kind=AttributionKind.indirect, cue=cue, content=[content], rule="test")
        _model({}, {}).refine(doc, [kept])
        assert [text[s:e] for s, e in moved.content] == ["that the bridge will close next week for repairs"]
        assert [text[s:e] for s, e in kept.content] == ["the bridge will close"]


def test_refine_moves_source_and_cue_edges() -> None:
    text = "The mayor of the town said on Monday that the bridge will close."
    doc = load_nlp()(text)
    source = doc.char_span(text.index("mayor"), text.index(" of the"), alignment_mode="expand")
    c = Candidate(
        kind=AttributionKind.indirect,
        cue=(text.index("said"), text.index("said") + 4),
        content=[(text.index("that the"), len(text) - 1)],
        rule="test",
        source=source,
    )
    sides = {"start": {"intercept": 0.0, "weights": {"w=the": 2.0}}, "end": {"intercept": 0.0, "weights": {"w=town": 2.0}}}
    cue_sides = {"start": {"intercept": 0.0, "weights": {}}, "end": {"intercept": 0.0, "weights": {"w=monday": 2.0}}}
    model = EdgeModel({"window": 4, "roles": {"source": {"margin": 0.5, **sides}, "cue": {"margin": 0.5, **cue_sides}}})
    model.refine(doc, [c])
    assert c.source is not None and c.source.text == "The mayor of the town"
    assert text[c.cue[0] : c.cue[1]] == "said on Monday"


def test_retraining_a_slice_reproduces_its_recorded_scores(tmp_path: Path) -> None:
    """Logistic regression with lbfgs has no randomness; the fixture was written by this command."""
    import train_attribution_edges

    recorded = json.loads(SLICE.read_text(encoding="utf-8"))
    out = tmp_path / "edges.json"
    assert train_attribution_edges.main([*recorded["argv"], "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    written = json.loads(out.read_text(encoding="utf-8"))
    for role, want in recorded["dev_exact_f1"].items():
        assert written["dev_exact_f1"][role] == pytest.approx(want, abs=0.005), role
    # The file holds the edges its mode moves, and no others.
    mode = recorded["argv"][recorded["argv"].index("--mode") + 1]
    shipped = train_attribution_edges.SHIPPED[mode]
    assert {role: tuple(k for k in ("start", "end") if k in m) for role, m in written["roles"].items()} == shipped


def test_each_learned_mode_ships_its_own_small_edge_model() -> None:
    from importlib import resources

    for mode, name in EDGES_ARTEFACTS.items():
        path = resources.files("reportedly.models") / name
        assert path.is_file() and len(path.read_bytes()) < 200_000, name
        assert load_edges(mode) is not None
    # Fast moves every edge worth moving on its extractor's spans; accurate leaves source edges alone.
    fast, accurate = load_edges("fast"), load_edges("accurate")
    assert fast is not None and accurate is not None
    assert "source" in fast.roles and "source" not in accurate.roles
    assert Analyzer("fast", settle=False).edges is fast
    with pytest.raises(ValueError, match="no edge model"):
        load_edges("rules")


def test_fast_edge_model_dev_scores_hold() -> None:
    from importlib import resources

    recorded = json.loads((resources.files("reportedly.models") / EDGES_ARTEFACTS["fast"]).read_text(encoding="utf-8"))
    docs = load_split("dev")
    with_edges = evaluate(docs, "reportedly", analyzer=Analyzer("fast"))["overall"]
    without = evaluate(docs, "reportedly", analyzer=Analyzer("fast", edges=False))["overall"]
    for role in ("source", "content"):
        assert with_edges[role]["exact"]["f1"] == pytest.approx(recorded["dev_exact_f1"][role], abs=0.005), role
        assert with_edges[role]["exact"]["f1"] > without[role]["exact"]["f1"], role


def test_analysis_scores_tokens_as_training_featurised_them() -> None:
    """The analyser scores span features from tables; training wrote them as names. Both must
    give every candidate the same score, or the shipped weights mean something else at run time."""
    from reportedly.attribution import edges

    model = load_edges("fast")
    assert model is not None
    text = "“We will not back down,” the senator, who chairs the committee, told reporters on Tuesday."
    doc = load_nlp()(text)
    a = edges._arrays(doc)
    cue = {t.i for t in doc if t.text == "told"}
    lo = hi = next(iter(cue))
    checked = 0
    for role in model.roles.values():
        for side, left in ((role.start, True), (role.end, False)):
            if side is None:  # an edge the shipped model leaves alone
                continue
            for i in range(len(doc)):
                for original in (max(0, i - 7), i, min(len(doc) - 1, i + 3)):
                    view = edges._view(a, i, left)
                    names = edges._span_features(view, i, original, cue, lo, hi, quoted=i % 2 == 0)
                    assert side.span_score(view, i, original, cue, lo, hi, i % 2 == 0) == pytest.approx(side.partial(names))
                    checked += 1
    assert checked > 100

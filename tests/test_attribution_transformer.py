"""Accurate attribution (all-MiniLM-L6-v2 fine-tuned as a BIO tagger): decoding, the shipped artefact, retraining."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import torch

from conftest import FIXTURES
from reportedly.attribution.learned import link
from reportedly.attribution.transformer import ARTEFACT, LABELS, META, decode, load_accurate_tagger, viterbi
from reportedly.evaluation.brat import SpanSet
from reportedly.evaluation.polnear import load_split
from reportedly.evaluation.scoring import score_document, total
from reportedly.ingest import paragraph_spans
from reportedly.pipeline.nlp import load_nlp

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS = REPO_ROOT / "src" / "reportedly" / "models"
SLICE_FIXTURE = FIXTURES / "attribution_accurate_slice.json"


def _meta() -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((MODELS / META).read_text(encoding="utf-8"))
    return meta


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "train_attribution_accurate", REPO_ROOT / "scripts" / "train_attribution_accurate.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_viterbi_keeps_bio_well_formed() -> None:
    """An I- tag never starts a run: a lone I-CON after O comes out as B-CON, and I- follows its own role only."""
    lp = torch.log_softmax(torch.tensor([[0.0] * 7, [0.0] * 7, [0.0] * 7]), -1)
    lp[0, LABELS.index("O")] = 5.0
    lp[1, LABELS.index("I-CON")] = 5.0
    lp[1, LABELS.index("B-CON")] = 4.0
    lp[2, LABELS.index("I-SRC")] = 5.0
    lp[2, LABELS.index("I-CON")] = 4.5
    assert [LABELS[i] for i in viterbi(lp)] == ["O", "B-CON", "I-CON"]


def test_shipped_artefact_is_small_and_described() -> None:
    meta = _meta()
    size = (MODELS / ARTEFACT).stat().st_size
    assert size < 25_000_000
    assert meta["artefact"]["bytes"] == size
    card = (MODELS / "attribution_accurate.MODEL_CARD.md").read_text(encoding="utf-8")
    for role in ("source", "cue", "content"):
        assert f"{meta['dev_f1'][f'{role}/exact']['f1']:.3f}" in card


def test_shipped_tagger_decodes_to_attributions_on_a_dev_doc() -> None:
    gold = load_split("dev", limit=1)[0]
    doc = load_nlp()(gold.text)
    paras = [(p.start, p.end) for p in paragraph_spans(gold.text)]
    tagger = load_accurate_tagger()
    assert tagger is load_accurate_tagger()
    tags = tagger.tag(doc, paras)
    assert len(tags) == len(doc) and set(tags) <= set(LABELS)
    prev = "O"
    for tok, tag in zip(doc, tags, strict=True):
        if tok.is_space and tag == "O":
            continue
        assert not tag.startswith("I-") or prev[2:] == tag[2:], (tok.i, prev, tag)
        prev = tag
    found = link(doc, tags, paras)
    assert found and all(gold.text[c.cue[0] : c.cue[1]].strip() for c in found)
    preds = [
        SpanSet(((c.source.start_char, c.source.end_char),) if c.source is not None else None, (c.cue,), tuple(c.content) or None)
        for c in found
    ]
    scores = total([score_document(gold.text, gold.attributions, preds)])
    assert scores[("cue", "exact")].f1 >= 0.5
    assert scores[("content", "overlap")].f1 >= 0.5
    # decode() on the same log-probabilities is what tag() returns: one tag per token
    assert decode(doc, {}) == ["O"] * len(doc)


def test_retraining_a_slice_reproduces_its_recorded_scores(tmp_path: Path) -> None:
    """Training on the first train articles with the fixed seed gives the dev-slice figures recorded by the script."""
    recorded = json.loads(SLICE_FIXTURE.read_text(encoding="utf-8"))
    argv = [*recorded["argv"], "--out", str(tmp_path / "slice.safetensors"), "--no-check"]
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        assert _script().main(argv) == 0
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    got = json.loads((tmp_path / "slice.json").read_text(encoding="utf-8"))["dev_f1"]
    assert recorded["dev_f1"]["cue/exact"]["f1"] > 0  # the slice learns something
    for key, want in recorded["dev_f1"].items():
        assert abs(got[key]["f1"] - want["f1"]) <= 0.005, key


def test_model_accurate_adds_to_fast_and_reaches_the_cli(tmp_path: Path) -> None:
    """``--model accurate`` is fast plus what the tagger adds: every attribution fast finds is
    still there, the tagger's own additions come on top, and the CLI takes the option."""
    import subprocess
    import sys

    from reportedly.pipeline.analyzer import Analyzer

    (doc,) = [d for d in load_split("dev", limit=13) if d.name.startswith("breitbart_2016-10-04_bill-clinton")]
    fast = Analyzer("fast")
    accurate = Analyzer("accurate", nlp=fast.nlp)
    from reportedly.ingest import read_string

    article = read_string(doc.text)
    fast_cues = {(a.cue.start, a.cue.end) for a in fast.analyze(article).attributions}
    accurate_cues = {(a.cue.start, a.cue.end) for a in accurate.analyze(article).attributions}
    assert fast_cues <= accurate_cues

    path = tmp_path / "a.txt"
    path.write_text(doc.text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "reportedly", "analyze", str(path), "--model", "accurate", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert {(a["cue"]["start"], a["cue"]["end"]) for a in json.loads(proc.stdout)["attributions"]} == accurate_cues

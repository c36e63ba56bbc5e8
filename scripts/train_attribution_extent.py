"""Train accurate mode's extent model (``reportedly/models/attribution_extent_accurate.json``) on PolNeAR train.

    .venv/bin/python scripts/train_attribution_extent.py          # train, pick the margins, score dev, write it
    .venv/bin/python scripts/train_attribution_extent.py --limit 8 --dev-limit 3 --out /tmp/extent.json
    .venv/bin/python scripts/train_attribution_extent.py --score-only   # re-measure the shipped file on dev

Accurate mode without the extent model (the taggers, the rules, the edge model) runs over PolNeAR
train. Its taggers' label probabilities there come from the cache that fast's network trains
from (``train_attribution_fast_cnn.teacher_probabilities``: the same two taggers over train,
about 28 minutes on two cores when the cache is cold, then seconds). Each Content that overlaps
a gold one gives two groups of candidates (:mod:`reportedly.attribution.extent`): the tokens
where it could end and those where it could start, each labelled by whether the Content cut
there has the annotators' edge, after the conventions of :mod:`reportedly.attribution.edges`.
Per side, a conditional logit (a softmax over each group's candidates, L2-penalised, fitted by
L-BFGS) learns to pick the annotators' edge among them; groups with no right candidate teach
nothing and are left out.

Nothing is chosen on dev. The margin by which a candidate must beat the drawn edge is picked per
side by two-fold cross-fitting on train: fitted on one half of the articles, the model moves the
edges of the other half's contents, and the margin that makes the most of them right (net of
those it makes wrong) is kept. The penalties were picked the same way (:data:`PENALTY`). Dev is
scored once, with and without the model. L-BFGS from zero weights has no randomness: retraining
gives the same model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize
from sklearn.feature_extraction import DictVectorizer
from spacy.tokens import Doc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_attribution import data_arguments, parsed  # the shared arguments and parse cache
from train_attribution_fast_cnn import teacher_probabilities  # the taggers over train, cached

from reportedly.attribution.edges import polish_content, token_extent
from reportedly.attribution.extent import (
    ARTEFACTS,
    REACH,
    ExtentModel,
    cut_end,
    cut_start,
    end_candidates,
    feature_names,
    start_candidates,
)
from reportedly.attribution.extractor import LAYOUT_RULES, Candidate
from reportedly.attribution.transformer import _Decoding
from reportedly.evaluation.polnear import GoldDoc, load_split
from reportedly.evaluation.runner import evaluate
from reportedly.evaluation.scoring import Tokens, _pair, _role_score, normalise
from reportedly.ingest import paragraph_spans
from reportedly.pipeline import doccache as dc
from reportedly.pipeline.analyzer import Analyzer

MODELS = Path(__file__).resolve().parents[1] / "src/reportedly/models"
SIDES = ("end", "start")
# L2, chosen by the cross-fit below among 0.3, 1, 3, 10, 30 (end) and 3, 10, 30, 100, 300 (start):
# the end model gained most at 10, the start model at 100 (docs/accuracy.md, twenty-third round).
PENALTY = {"end": 10.0, "start": 100.0}
MARGINS = (0.0, 0.5, 1.0, 2.0)
MIN_WEIGHT = 0.02  # smaller weights are dropped from the file

Group = tuple[list[list[str]], list[int]]  # the candidates' features, and which are right


class TeacherTags(_Decoding):
    """The accurate taggers' label log-probabilities, read from the teacher cache instead of
    computed: the same numbers (stored as float16 probabilities) at a fraction of the time."""

    def __init__(self, table: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.table = table

    def doc_logprobs(
        self,
        docs: Sequence[Doc],
        paragraphs: Sequence[Sequence[tuple[int, int]]],
        rules: Sequence[Sequence[Candidate]],
    ) -> list[dict[int, torch.Tensor]]:
        out = []
        for doc in docs:
            index, probs = self.table[doc.text]
            lp = torch.log_softmax(torch.from_numpy(np.log(np.maximum(probs.astype(np.float32), 1e-7))), -1)
            out.append({int(i): lp[j] for j, i in enumerate(index)})
        return out


class Remembered(_Decoding):
    """The taggers, each article read once: dev is scored with and without the model."""

    def __init__(self, taggers: _Decoding) -> None:
        self.taggers = taggers
        self.seen: dict[str, dict[int, torch.Tensor]] = {}

    def doc_logprobs(
        self,
        docs: Sequence[Doc],
        paragraphs: Sequence[Sequence[tuple[int, int]]],
        rules: Sequence[Sequence[Candidate]],
    ) -> list[dict[int, torch.Tensor]]:
        for doc, paras, found in zip(docs, paragraphs, rules, strict=True):
            if doc.text not in self.seen:
                self.seen[doc.text] = self.taggers.doc_logprobs([doc], [paras], [found])[0]
        return [self.seen[doc.text] for doc in docs]


def groups(docs: list[GoldDoc], parsed_docs: dict[str, Doc], analyzer: Analyzer) -> dict[str, list[list[Group]]]:
    """Per side, per article, the candidate groups of its Contents that overlap a gold one."""
    out: dict[str, list[list[Group]]] = {side: [] for side in SIDES}
    for d in docs:
        doc = parsed_docs[d.text]
        text = d.text
        dc.prime_text(doc, text)
        paras = [(p.start, p.end) for p in paragraph_spans(text)] or [(0, len(text))]
        found = analyzer.candidates(doc, paras)
        if analyzer.edges is not None:
            analyzer.edges.refine(doc, found)
        cands = [c for c in found if c.content and c.rule not in LAYOUT_RULES]
        gold = [normalise(r, text) for a in d.attributions if (r := a.role("content"))]
        pred = [normalise(tuple(c.content), text) for c in cands]
        starts = dc.token_starts(doc)
        article: dict[str, list[Group]] = {side: [] for side in SIDES}
        for gi, pj in _pair(gold, pred, partial(_role_score, "overlap", Tokens(text))):
            g, c = gold[gi], cands[pj]
            cue_lo, cue_hi = token_extent(starts, [c.cue])
            cue = set(range(cue_lo, cue_hi + 1))
            ends = end_candidates(doc, c.content, cue)
            if ends is not None:
                labels = []
                for i, _, _ in ends[1]:
                    cut = cut_end(doc, c.content, i)
                    labels.append(int(cut is not None and normalise(tuple(polish_content(text, cut)), text)[-1][1] == g[-1][1]))
                article["end"].append(([feature_names(f) for f in ends[1]], labels))
            begins = start_candidates(doc, c.content, cue)
            if begins is not None:
                labels = []
                for i, _, _ in begins[1]:
                    cut = cut_start(doc, c.content, i, c.cue)
                    labels.append(int(cut is not None and normalise(tuple(polish_content(text, cut)), text)[0][0] == g[0][0]))
                article["start"].append(([feature_names(f) for f in begins[1]], labels))
        for side in SIDES:
            out[side].append(article[side])
        dc.release(doc)
    return out


def fit(data: list[Group], penalty: float) -> dict[str, float]:
    """A conditional logit over each group's candidates: maximise the probability of the right ones."""
    taught = [g for g in data if any(g[1])]
    if not taught:
        return {}
    vec = DictVectorizer()
    x = vec.fit_transform([dict.fromkeys(f, 1.0) for feats, _ in taught for f in feats]).tocsr()
    y = np.array([label for _, labels in taught for label in labels], dtype=float)
    sizes = np.array([len(labels) for _, labels in taught])
    bounds = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    group = np.repeat(np.arange(len(taught)), sizes)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = x @ w
        e = np.exp(s - np.maximum.reduceat(s, bounds)[group])
        every, right = np.add.reduceat(e, bounds), np.add.reduceat(e * y, bounds)
        grad = x.T @ (e / every[group] - e * y / right[group]) + penalty * w
        return float(-np.sum(np.log(right) - np.log(every)) + penalty * w @ w / 2), grad

    w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x
    named = zip(vec.get_feature_names_out(), w, strict=True)
    return dict(sorted((str(k), round(float(v), 4)) for k, v in named if abs(v) >= MIN_WEIGHT))


def gains(weights: dict[str, float], data: list[Group], margins: Sequence[float]) -> dict[float, int]:
    """Per margin, how many more of ``data``'s edges the model makes right than the drawn ones
    (the drawn edge is the candidate at distance 0)."""
    out = dict.fromkeys(margins, 0)
    for feats, labels in data:
        own = next((k for k, f in enumerate(feats) if "off=00" in f), None)
        if own is None:
            continue
        scores = [sum(weights.get(x, 0.0) for x in f) for f in feats]
        top = max(range(len(scores)), key=scores.__getitem__)
        for m in margins:
            out[m] += labels[top if scores[top] > scores[own] + m else own] - labels[own]
    return out


def crossfit_margin(articles: list[list[Group]], penalty: float) -> tuple[float, dict[float, int]]:
    """The margin whose moves make the most edges right on held-out halves of train."""
    half = len(articles) // 2
    first = [g for a in articles[:half] for g in a]
    second = [g for a in articles[half:] for g in a]
    total = dict.fromkeys(MARGINS, 0)
    for fit_on, held_out in ((first, second), (second, first)):
        for m, gained in gains(fit(fit_on, penalty), held_out, MARGINS).items():
            total[m] += gained
    return max(MARGINS, key=lambda m: (total[m], m)), total


def dev_scores(model: dict[str, Any] | None, dev: list[GoldDoc], analyzer: Analyzer) -> dict[str, float]:
    analyzer.extent = ExtentModel(model) if model is not None else None
    overall = evaluate(dev, "reportedly", analyzer=analyzer)["overall"]
    return {role: round(overall[role]["exact"]["f1"], 4) for role in ("source", "cue", "content", "attribution")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_arguments(ap, MODELS / ARTEFACTS["accurate"])
    ap.add_argument("--score-only", action="store_true", help="re-measure the dev figures of the model at --out, no training")
    args = ap.parse_args(argv)
    dev = load_split("dev", args.data, limit=args.dev_limit)
    if args.score_only:  # after a change to the taggers or the steps the model runs behind
        shipped = json.loads(args.out.read_text(encoding="utf-8"))
        analyzer = Analyzer("accurate", extent=False)
        analyzer.learned[0] = analyzer.learned[0]._replace(extractor=Remembered(analyzer.learned[0].extractor))
        shipped["dev_exact_f1"] = dev_scores(shipped, dev, analyzer)
        shipped["dev_exact_f1_without"] = dev_scores(None, dev, analyzer)
        args.out.write_text(json.dumps(shipped, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
        print(json.dumps({k: shipped[k] for k in ("dev_exact_f1", "dev_exact_f1_without")}, indent=2))
        return 0

    started = time.perf_counter()
    train_docs = load_split("train", args.data, limit=args.limit)
    cache = args.cache if args.limit is None else args.cache / f"limit{args.limit}"
    by_text = parsed("train", train_docs, cache)
    analyzer = Analyzer("accurate", extent=False)
    taggers = analyzer.learned[0].extractor
    analyzer.learned[0] = analyzer.learned[0]._replace(extractor=TeacherTags(teacher_probabilities(by_text, cache, "train")))
    data = groups(train_docs, by_text, analyzer)
    analyzer.learned[0] = analyzer.learned[0]._replace(extractor=Remembered(taggers))
    print(f"collected in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    model: dict[str, Any] = {"kind": "reportedly.attribution/extent", "mode": "accurate", "reach": REACH}
    crossfit: dict[str, dict[str, int]] = {}
    for side in SIDES:
        margin, tried = crossfit_margin(data[side], PENALTY[side])
        crossfit[side] = {str(m): g for m, g in tried.items()}
        flat = [g for a in data[side] for g in a]
        model[side] = {"margin": margin, "penalty": PENALTY[side], "weights": fit(flat, PENALTY[side])}
        taught = sum(1 for _, labels in flat if any(labels))
        print(
            f"{side}: {len(flat)} contents, {taught} with the annotators' edge in reach; "
            f"held-out edges made right, net, by margin: {tried}; margin {margin}",
            file=sys.stderr,
        )
    print(f"fitted in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    model["crossfit_net_right"] = crossfit
    model["train_contents"] = {side: sum(len(a) for a in data[side]) for side in SIDES}
    model["dev_exact_f1"] = dev_scores(model, dev, analyzer)
    model["dev_exact_f1_without"] = dev_scores(None, dev, analyzer)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    margins = {side: model[side]["margin"] for side in SIDES}
    print(
        json.dumps(
            {"margins": margins, "dev_exact_f1": model["dev_exact_f1"], "without": model["dev_exact_f1_without"]}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

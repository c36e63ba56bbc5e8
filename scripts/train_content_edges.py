"""Train the content-edge model (``reportedly/models/content_edges.json``) on PolNeAR train.

    .venv/bin/python scripts/train_content_edges.py              # train, pick the margin on dev, write the model
    .venv/bin/python scripts/train_content_edges.py --limit 40 --out /tmp/edges.json

The fast extractor (rules + CRF) runs over PolNeAR train; each content it finds that overlaps a
gold content gives one group of candidate start tokens and one of end tokens around its edges,
labelled by whether the edge there is the annotators' (after :func:`polish_content`). Two logistic
regressions score them. The margin by which a candidate must beat the extractor's own edge is
picked on dev. Logistic regression with lbfgs has no randomness: retraining gives the same model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from spacy.tokens import Doc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_attribution import parsed  # the shared parse cache

from reportedly.attribution.edges import (
    EDGES_ARTEFACT,
    ContentEdges,
    edge_candidates,
    edge_features,
    polish_content,
)
from reportedly.evaluation.polnear import GoldDoc, load_split
from reportedly.evaluation.runner import evaluate
from reportedly.evaluation.scoring import MODES, Tokens, _pair, _role_score, normalise
from reportedly.ingest import paragraph_spans
from reportedly.pipeline import doccache as dc
from reportedly.pipeline.analyzer import Analyzer

MODELS = Path(__file__).resolve().parents[1] / "src/reportedly/models"
WINDOW = 6
C = 0.3
MIN_WEIGHT = 0.1  # smaller weights change no dev decision and would make the file 13 times larger
MARGINS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)

Example = tuple[dict[str, float], int]


def examples(docs: list[GoldDoc], parsed_docs: dict[str, Doc], analyzer: Analyzer) -> tuple[list[Example], list[Example]]:
    starts: list[Example] = []
    ends: list[Example] = []
    found: dict[str, list[Any]] = {}
    for d in docs:
        doc = parsed_docs[d.text]
        text = d.text
        if text not in found:
            paras = [(p.start, p.end) for p in paragraph_spans(text)]
            found[text] = [c for c in analyzer.candidates(doc, paras) if c.content]
        cands = found[text]
        gold = [normalise(r, text) for a in d.attributions if (r := a.role("content"))]
        pred = [normalise(tuple(c.content), text) for c in cands]
        tok_starts = [t.idx for t in dc.tokens(doc)]
        for gi, pj in _pair(gold, pred, partial(_role_score, "overlap", Tokens(text))):
            g, c = gold[gi], cands[pj]
            p_start, p_end = c.content[0][0], c.content[-1][1]
            s_tok = max(0, _index(tok_starts, p_start))
            e_tok = _index(tok_starts, p_end - 1)
            if e_tok < s_tok:
                continue
            cue = set(range(_index(tok_starts, c.cue[0]), _index(tok_starts, c.cue[1] - 1) + 1))
            quoted = text[p_start : p_start + 1] in "\"“‘'`"
            s_cands, e_cands = edge_candidates(doc, s_tok, e_tok, WINDOW)
            s_lab = [polish_content(text, [(doc[i].idx, p_end)])[0][0] == g[0][0] for i in s_cands]
            e_lab = [polish_content(text, [(p_start, doc[i].idx + len(doc[i].text))])[-1][1] == g[-1][1] for i in e_cands]
            if any(s_lab):
                starts += [(edge_features(doc, i, s_tok, cue, True, quoted), int(y)) for i, y in zip(s_cands, s_lab, strict=True)]
            if any(e_lab):
                ends += [(edge_features(doc, i, e_tok, cue, False, quoted), int(y)) for i, y in zip(e_cands, e_lab, strict=True)]
        dc.release(doc)
    return starts, ends


def _index(starts: list[int], char: int) -> int:
    import bisect

    return max(0, bisect.bisect_right(starts, char) - 1)


def fit(data: list[Example], c: float) -> dict[str, Any]:
    vec = DictVectorizer()
    x = vec.fit_transform([f for f, _ in data])
    y = [label for _, label in data]
    clf = LogisticRegression(C=c, solver="lbfgs", max_iter=5000).fit(x, y)
    named = zip(vec.get_feature_names_out(), clf.coef_[0], strict=True)
    weights = {name: round(float(w), 5) for name, w in named if abs(w) >= MIN_WEIGHT}
    return {"intercept": round(float(clf.intercept_[0]), 5), "weights": dict(sorted(weights.items()))}


def dev_scores(model: dict[str, Any], dev: list[GoldDoc]) -> dict[str, float]:
    analyzer = Analyzer("fast", edges=False)
    analyzer.edges = ContentEdges(model)
    overall = evaluate(dev, "reportedly", analyzer=analyzer)["overall"]
    return {role: overall[role]["exact"]["f1"] for role in ("source", "cue", "content", "attribution")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=Path(".cache/polnear"))
    ap.add_argument("--out", type=Path, default=MODELS / EDGES_ARTEFACT)
    ap.add_argument("--limit", type=int, default=None, help="train on the first N train articles (tests)")
    ap.add_argument("--dev-limit", type=int, default=None)
    ap.add_argument("--c", type=float, default=C)
    ap.add_argument("--margin", type=float, default=None, help="skip the dev search and use this margin")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    train_docs = load_split("train", args.data, limit=args.limit)
    cache = args.cache if args.limit is None else args.cache / f"limit{args.limit}"
    starts, ends = examples(train_docs, parsed("train", train_docs, cache), Analyzer("fast", edges=False))
    model: dict[str, Any] = {
        "kind": "reportedly.attribution/content-edges",
        "window": WINDOW,
        "margin": 0.0,
        "start": fit(starts, args.c),
        "end": fit(ends, args.c),
    }
    print(f"{len(starts)} start and {len(ends)} end candidates, fitted in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    dev = load_split("dev", args.data, limit=args.dev_limit)
    margins = (args.margin,) if args.margin is not None else MARGINS
    results = {}
    for m in margins:
        model["margin"] = m
        results[m] = dev_scores(model, dev)
        print(f"margin {m}: {results[m]}", file=sys.stderr)
    best = max(margins, key=lambda m: (results[m]["content"], -m))
    model["margin"] = best
    model["dev_exact_f1"] = results[best]
    model["train_candidates"] = {"start": len(starts), "end": len(ends)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({"margin": best, "dev_exact_f1": results[best], "modes": list(MODES)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

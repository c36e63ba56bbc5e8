"""Train the voice (opinion vs reporting) model shipped as src/reportedly/models/voice.json.

    .venv/bin/python scripts/train_voice.py             # train on CheckThat! train_en, score on dev_en, write the artefact
    .venv/bin/python scripts/train_voice.py --out /tmp/voice.json --data ../shared/data/subjectivity

Recipe (fixed; the same data gives the same file):
- Each training item is parsed by the package's spaCy pipeline, its attributions extracted, and
  the whole item taken as one unit for ``voice.model.sentence_features`` (with the lexicon's own
  evidence among the features).
- Logistic regression (L-BFGS, L2, ``C``), classes weighted to balance: the training split is
  36% SUBJ while the task's dev split is about even, and a balanced loss keeps the decision from
  leaning on that prior. Threshold 0.5.
- Weights rounded to 6 decimals, near-zero ones dropped; the dev score stored in the artefact is
  that of the rounded model through the analysis's own voice step (what ``eval subjectivity``
  reports as "learned").

Needs scikit-learn (a development dependency); the package reads the artefact without it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from reportedly.attribution.extractor import extract
from reportedly.evaluation.subjectivity import Item, evaluate, load_split
from reportedly.pipeline.nlp import load_nlp
from reportedly.voice.model import ARTEFACT, VoiceModel, write_model
from reportedly.voice.tagger import item_features

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "reportedly" / "models" / ARTEFACT
SEED = 13
C = 0.01
THRESHOLD = 0.5


def featurize(items: list[Item]) -> list[dict[str, float]]:
    out = []
    for item, doc in zip(items, load_nlp().pipe([i.text for i in items], batch_size=64), strict=True):
        candidates = extract(doc, [(0, len(item.text))])
        out.append(item_features(doc, [r for c in candidates for r in c.content], [c.cue for c in candidates]))
    return out


def train(data_dir: Path | None = None, *, limit: int | None = None) -> tuple[VoiceModel, dict[str, Any]]:
    """Train on train_en, score on dev_en. ``limit`` keeps the first N training items (quick runs for tests)."""
    items = load_split("train", data_dir)[:limit]
    vec = DictVectorizer(sort=True)
    x = vec.fit_transform(featurize(items))
    y = [1 if i.label == "SUBJ" else 0 for i in items]
    clf = LogisticRegression(C=C, class_weight="balanced", solver="lbfgs", max_iter=10000).fit(x, y)
    rounded = {name: round(float(w), 6) for name, w in zip(vec.get_feature_names_out(), clf.coef_[0], strict=True)}
    weights = {name: w for name, w in rounded.items() if w != 0.0}
    model = VoiceModel(intercept=round(float(clf.intercept_[0]), 6), weights=weights, threshold=THRESHOLD, meta={})
    result = evaluate("dev", data_dir, ("majority", "rules", "learned"), model=model)
    scores = {r["system"]: round(r["macro_f1"], 6) for r in result["results"]}
    meta = {
        "trained_on": {"corpus": "CheckThat! 2023 Task 2 English", "split": "train", "items": len(items), "subj": sum(y)},
        "limit": limit,
        "recipe": {"C": C, "class_weight": "balanced", "solver": "lbfgs", "features": len(weights)},
        "dev_macro_f1": scores,
    }
    return VoiceModel(model.intercept, model.weights, model.threshold, meta), scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=None, help="subjectivity folder (default: ../shared/data/subjectivity)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"artefact to write (default: {DEFAULT_OUT})")
    parser.add_argument("--limit", type=int, default=None, help="only the first N training items")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model, scores = train(args.data, limit=args.limit)
    write_model(model, str(args.out))
    print("dev macro-F1: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size:,} bytes, {len(model.weights):,} features) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

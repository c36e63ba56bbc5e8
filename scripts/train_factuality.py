"""Train the event-factuality model shipped as src/reportedly/models/factuality.json.gz.

    .venv/bin/python scripts/train_factuality.py            # train on UW + MEANTIME train, score on dev, write the artefact
    .venv/bin/python scripts/train_factuality.py --out /tmp/f.json.gz --data ../shared/data/factuality

Recipe (fixed, seeded; the same data gives the same bytes):
- Each gold event word of the UW and MEANTIME train splits, parsed from its own tokens by the
  package's spaCy pipeline, becomes the binary features of ``certainty.model.event_features``.
- Feature augmentation (Daumé III 2007): every feature also gets a per-corpus copy valued
  ``DOMAIN_SCALE``, so the corpora share what they agree on and keep their own conventions.
- Ridge regression (``ALPHA``) on the -3..+3 labels; then, per corpus, an isotonic calibration
  fitted on 5-fold out-of-fold predictions of the training data (``SEED``).
- Weights are rounded to 6 decimals; the dev scores stored in the artefact are computed with the
  rounded model through the package's own prediction code (what ``eval factuality`` reports).

Needs scikit-learn (a development dependency); the package reads the artefact without it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold

from reportedly.certainty.model import ARTEFACT, FactualityModel, event_features, write_model
from reportedly.evaluation.factuality import DOMAINS, FactSentence, load_split, mean_absolute_error, parse, pearson
from reportedly.pipeline.nlp import load_nlp

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "reportedly" / "models" / ARTEFACT
SEED = 13
ALPHA = 5.0
DOMAIN_SCALE = 0.25
FOLDS = 5
CORPORA = ("uw", "meantime")


def featurize(sentences: list[FactSentence]) -> tuple[list[list[str]], list[float]]:
    feats: list[list[str]] = []
    labels: list[float] = []
    for sent, doc in zip(sentences, parse(sentences, load_nlp()), strict=True):
        for t in sent.targets:
            feats.append(event_features(doc[t.token]))
            labels.append(t.label)
    return feats, labels


def train(data_dir: Path | None = None, *, limit: int | None = None) -> tuple[FactualityModel, dict[str, Any]]:
    """Train on the train splits, score on dev. ``limit`` keeps the first N training sentences of each
    corpus (a quick, still deterministic, run for tests)."""
    domains = tuple(DOMAINS[c] for c in CORPORA)
    rows: list[tuple[int, list[str], float]] = []  # (domain index, features, label)
    for d, corpus in enumerate(CORPORA):
        sentences = load_split(corpus, "train", data_dir)[:limit]
        feats, labels = featurize(sentences)
        rows += [(d, f, y) for f, y in zip(feats, labels, strict=True)]

    names = sorted({name for _, f, _ in rows for name in f})
    column = {name: i for i, name in enumerate(names)}
    n_base, n_dom = len(names), len(domains)
    data, indices, indptr = [], [], [0]
    for d, f, _ in rows:
        for name in sorted(set(f)):
            j = column[name]
            indices += [j, (d + 1) * n_base + j]
            data += [1.0, DOMAIN_SCALE]
        indptr.append(len(indices))
    x = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), n_base * (n_dom + 1)))
    y = np.array([label for _, _, label in rows])
    dom = np.array([d for d, _, _ in rows])

    def ridge() -> Ridge:
        # Solved far past the six decimals stored: at tol=1e-8 the last digit of a few weights
        # depended on the CPU's kernels (an AMD EPYC without AVX-512 stored 2 of 15,049 weights
        # 1e-6 away from the artefact shipped from a machine with it). At 1e-12 one-thread,
        # two-thread and Sandy Bridge-kernel runs give the same bytes.
        return Ridge(alpha=ALPHA, solver="sparse_cg", tol=1e-12, max_iter=100000)

    oof = np.zeros(len(y))
    for tr, te in KFold(FOLDS, shuffle=True, random_state=SEED).split(x):
        oof[te] = ridge().fit(x[tr], y[tr]).predict(x[te])
    fitted = ridge().fit(x, y)
    coef = fitted.coef_.reshape(n_dom + 1, n_base)
    weights = {
        name: tuple(round(float(coef[k, j]), 6) for k in range(n_dom + 1))
        for name, j in column.items()
        if any(round(float(coef[k, j]), 6) != 0.0 for k in range(n_dom + 1))
    }
    calibration = {}
    for d, name in enumerate(domains):
        iso = IsotonicRegression(y_min=-3.0, y_max=3.0, out_of_bounds="clip").fit(np.clip(oof[dom == d], -3, 3), y[dom == d])
        calibration[name] = (
            tuple(round(float(v), 6) for v in iso.X_thresholds_),
            tuple(round(float(v), 6) for v in iso.y_thresholds_),
        )
    model = FactualityModel(
        intercept=round(float(fitted.intercept_), 6),
        weights=weights,
        domains=domains,
        domain_scale=DOMAIN_SCALE,
        calibration=calibration,
        meta={},
    )
    scores = {corpus: dev_scores(model, corpus, data_dir) for corpus in CORPORA}
    meta = {
        "trained_on": {c: {"split": "train", "events": int((dom == d).sum())} for d, c in enumerate(CORPORA)},
        "limit": limit,
        "recipe": {"alpha": ALPHA, "domain_scale": DOMAIN_SCALE, "folds": FOLDS, "seed": SEED, "features": len(weights)},
        "dev": scores,
    }
    return FactualityModel(model.intercept, model.weights, model.domains, model.domain_scale, model.calibration, meta), scores


def dev_scores(model: FactualityModel, corpus: str, data_dir: Path | None) -> dict[str, Any]:
    sentences = load_split(corpus, "dev", data_dir)
    pred, gold = [], []
    for sent, doc in zip(sentences, parse(sentences, load_nlp()), strict=True):
        for t in sent.targets:
            pred.append(model.predict(doc[t.token], DOMAINS[corpus]))
            gold.append(t.label)
    r = pearson(pred, gold)
    return {
        "events": len(gold),
        "pearson_r": None if r is None else round(r, 6),
        "mae": round(mean_absolute_error(pred, gold), 6),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=None, help="factuality folder (default: ../shared/data/factuality)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"artefact to write (default: {DEFAULT_OUT})")
    parser.add_argument("--limit", type=int, default=None, help="only the first N training sentences per corpus")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model, scores = train(args.data, limit=args.limit)
    write_model(model, str(args.out))
    for corpus, s in scores.items():
        print(f"{corpus} dev: r={s['pearson_r']} mae={s['mae']} ({s['events']} events)")
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size:,} bytes, {len(model.weights):,} features) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

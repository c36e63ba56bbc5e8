"""Fit the accurate attribution tagger from prepared windows: torch alone, no spaCy, CPU or GPU.

``scripts/train_attribution_accurate.py`` parses PolNeAR, cuts the articles into windows and either
calls :func:`fit` here (CPU) or writes the windows and the base weights with ``--export DIR`` for a
machine without spaCy (a GPU), where this script trains:

    python scripts/fit_attribution_tagger.py --data DIR/windows.pt --base DIR/base.safetensors \\
        --out OUTDIR --name full --epochs 10 --lr 5e-5

It writes OUTDIR/NAME.json (recipe, per-epoch history) and the kept epoch's trained weights in fp16
as OUTDIR/NAME.0.safetensors, NAME.1.safetensors, ... (parts under 15 MiB each); ``--import-state
OUTDIR/NAME`` of the training script turns them into the shipped artefact and scores it end to end.
With ``--delta-rank R`` the parts hold each trained encoder matrix as its rank-R change from the base
instead (the form the artefact stores): MPNet's twelve trained layers come back from a GPU machine as
21.6 MB at rank 64 rather than 200 MB. ``--import-state`` takes either form.

The epoch is kept by a proxy measured here on the dev windows: exact F1 of the BIO runs per role
(source, cue, content; before ``learned.link`` groups them), averaged. Deterministic for a given
device and thread count: a fixed seed, a seeded shuffle, deterministic algorithms, and a fixed number
of CPU threads (``--threads``, 2 unless told). The thread count is part of the recipe: torch's CPU
kernels split their sums by thread, so the same seed gives other weights on 1 or 3 threads than on
2 (CI once ran a fit on 3 threads, the default being the CPUs the process may use, and its weights
differed from the next run's).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
# Intel's conditions for run-to-run identical MKL results (torch's CPU BLAS): a conditional-numerical-
# reproducibility branch (STRICT: gemm the same on any thread count) and no thread counts chosen at run time.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")
os.environ.setdefault("MKL_DYNAMIC", "FALSE")
os.environ.setdefault("OMP_DYNAMIC", "FALSE")

import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))
try:
    import reportedly.attribution.tagger_network  # noqa: F401
except ImportError:
    # A bare GPU machine has torch but not spaCy or pydantic, which the package's __init__ modules
    # import; the network modules themselves need neither, so load them without those __init__s.
    import types

    for _name in [m for m in sys.modules if m == "reportedly" or m.startswith("reportedly.")]:
        del sys.modules[_name]
    for _name, _path in (("reportedly", ""), ("reportedly.attribution", "attribution"), ("reportedly.voice", "voice")):
        _pkg = types.ModuleType(_name)
        _pkg.__path__ = [str(SRC / "reportedly" / _path)]
        sys.modules[_name] = _pkg
from reportedly.attribution.tagger_network import (  # noqa: E402  (after the path and the bare-machine stubs)
    LABELS,
    TaggerNetwork,
    base_network,
    low_rank_delta,
    runs,
    trained_state,
    viterbi,
)

SEED = 13
THREADS = 2
WD = 0.01
PART_BYTES = 15 * 2**20
WORD_ROWS = "embeddings.word_embeddings.rows"
WORD_COUNT = "embeddings.word_embeddings.count"
Example = dict[str, torch.Tensor]


def save_base(base: dict[str, torch.Tensor], used: Sequence[int], path: Path) -> None:
    """The base weights in fp16 with only the word-embedding rows in ``used`` (the rest are never
    looked up), to travel small; :func:`read_base` restores the full table (zeros elsewhere)."""
    out = {k: v.to(torch.float16).contiguous() for k, v in base.items() if k != "embeddings.position_ids"}
    rows = torch.tensor(sorted(set(used)), dtype=torch.int32)
    out["embeddings.word_embeddings.weight"] = out["embeddings.word_embeddings.weight"][rows.long()].contiguous()
    out[WORD_ROWS] = rows
    out[WORD_COUNT] = torch.tensor([base["embeddings.word_embeddings.weight"].shape[0]], dtype=torch.int32)
    save_file(out, str(path))


def read_base(path: Path) -> dict[str, torch.Tensor]:
    state = load_file(str(path))
    rows = state.pop(WORD_ROWS, None)
    count = state.pop(WORD_COUNT, None)
    if rows is not None:
        # Files written before the count was stored hold all-MiniLM-L6-v2 (30,522 wordpieces).
        size = int(count[0]) if count is not None else 30522
        table = torch.zeros(size, state["embeddings.word_embeddings.weight"].shape[1], dtype=torch.float16)
        table[rows.long()] = state["embeddings.word_embeddings.weight"]
        state["embeddings.word_embeddings.weight"] = table
    return state


def pack(rows: Sequence[Example]) -> dict[str, torch.Tensor]:
    """Windows as flat tensors plus lengths (many small tensors pickle large)."""
    return {
        "lengths": torch.tensor([len(e["ids"]) for e in rows], dtype=torch.int32),
        "doc": torch.tensor([int(e["doc"]) for e in rows], dtype=torch.int32),
        **{k: torch.cat([e[k] for e in rows]) for k in ("ids", "rule", "dep", "label")},
    }


def unpack(packed: dict[str, torch.Tensor]) -> list[Example]:
    out: list[Example] = []
    at = 0
    for n, doc in zip(packed["lengths"].tolist(), packed["doc"].tolist(), strict=True):
        out.append({"doc": torch.tensor(doc), **{k: packed[k][at : at + n] for k in ("ids", "rule", "dep", "label")}})
        at += n
    return out


def batch(items: Sequence[Example], device: str, pad_id: int = 0) -> tuple[torch.Tensor, ...]:
    n = max(len(e["ids"]) for e in items)
    ids = torch.full((len(items), n), pad_id, dtype=torch.long)
    rule = torch.zeros(len(items), n, dtype=torch.long)
    dep = torch.zeros(len(items), n, dtype=torch.long)
    mask = torch.zeros(len(items), n, dtype=torch.long)
    labels = torch.full((len(items), n), -100, dtype=torch.long)
    for r, e in enumerate(items):
        k = len(e["ids"])
        ids[r, :k] = e["ids"].long()
        rule[r, :k] = e["rule"].long()
        dep[r, :k] = e["dep"].long()
        mask[r, :k] = 1
        lab = e["label"].long()
        labels[r, :k] = torch.where(lab < 0, torch.full_like(lab, -100), lab)
    return tuple(t.to(device) for t in (ids, rule, dep, mask, labels))


def upper_input(net: TaggerNetwork, items: Sequence[Example], ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The states entering the first trained layer: from the items' cached ``lower`` when they
    carry it (:func:`cache_lower`), else computed."""
    if "lower" not in items[0]:
        return net.lower(ids, mask)
    x = torch.zeros(*ids.shape, items[0]["lower"].shape[-1], device=ids.device)
    for r, e in enumerate(items):
        x[r, : len(e["lower"])] = e["lower"].to(ids.device, torch.float32)
    return x


def cache_lower(net: TaggerNetwork, rows: Sequence[Example], device: str, log: Callable[[str], None]) -> None:
    """Each row's states entering the first trained layer, computed once without dropout and kept
    in fp16 as ``row["lower"]``: the frozen layers then cost one pass instead of one per epoch
    (what makes a 12-layer base trainable on a CPU)."""
    net.eval()
    started = time.perf_counter()
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]["ids"]))
    with torch.inference_mode():
        for b in range(0, len(order), 32):
            items = [rows[i] for i in order[b : b + 32]]
            ids, _, _, mask, _ = batch(items, device, net.pad_id)
            x = net.lower(ids, mask).to(torch.float16).cpu()
            for r, e in enumerate(items):
                e["lower"] = x[r, : len(e["ids"])].clone()
    log(f"frozen layers cached for {len(rows)} windows in {time.perf_counter() - started:.0f} s")


def proxy_dev(net: TaggerNetwork, dev: Sequence[Example], device: str) -> dict[str, float]:
    """Exact F1 of BIO runs per role over the dev windows, each document decoded as a whole."""
    net.eval()
    docs: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}
    with torch.inference_mode():
        for b in range(0, len(dev), 64):
            items = dev[b : b + 64]
            ids, rule, dep, mask, labels = batch(items, device, net.pad_id)
            lp = torch.log_softmax(net.upper(upper_input(net, items, ids, mask), rule, dep, mask).float(), -1).cpu()
            labels = labels.cpu()
            for r, e in enumerate(items):
                keep = labels[r] >= 0
                docs.setdefault(int(e["doc"]), []).append((lp[r][keep], labels[r][keep]))
    return proxy_score(docs)


def proxy_score(docs: dict[int, list[tuple[torch.Tensor, torch.Tensor]]]) -> dict[str, float]:
    """:func:`proxy_dev`'s figures from each document's windows in order, as (label log-probabilities,
    gold labels) of their labelled tokens."""
    tp = {r: 0 for r in ("SRC", "CUE", "CON")}
    npred, ngold = dict(tp), dict(tp)
    for parts in docs.values():
        pred = runs(viterbi(torch.cat([p for p, _ in parts])))
        gold = runs(torch.cat([g for _, g in parts]).tolist())
        for role in tp:
            p = {x for x in pred if x[0] == role}
            g = {x for x in gold if x[0] == role}
            tp[role] += len(p & g)
            npred[role] += len(p)
            ngold[role] += len(g)
    out = {}
    for role, name in (("SRC", "source"), ("CUE", "cue"), ("CON", "content")):
        prec = tp[role] / npred[role] if npred[role] else 0.0
        rec = tp[role] / ngold[role] if ngold[role] else 0.0
        out[name] = round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0
    out["mean"] = round(sum(out[r] for r in ("source", "cue", "content")) / 3, 4)
    return out


def fit(
    data: dict[str, Any],
    base: dict[str, torch.Tensor],
    *,
    epochs: int,
    lr: float,
    head_lr: float,
    batch_size: int,
    seed: int = SEED,
    device: str = "cpu",
    deadline: float = float("inf"),
    lower_cached: bool = False,
    bf16: bool = False,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]], int]:
    """Train from the base; returns the kept epoch's trained state (fp16), the history and the epoch.
    No epoch starts that would likely end after ``deadline`` (a ``time.perf_counter()`` value); the
    learning-rate schedule is the full run's either way. ``lower_cached``: the frozen layers run once,
    without dropout (:func:`cache_lower`), instead of in every step. ``bf16``: the training steps'
    forward passes under bf16 autocast (weights and optimiser stay fp32), for a 12-layer base in a
    GPU session's minutes."""
    torch.manual_seed(seed)
    # warn_only: a CUDA op without a deterministic kernel warns instead of stopping the run; ``--again``
    # checks determinism itself by fitting the best recipe twice and comparing the weights.
    torch.use_deterministic_algorithms(True, warn_only=True)
    encoder = str(data.get("encoder", "minilm"))
    net = base_network(int(data["n_deps"]), int(data["first_trained"]), base, encoder).to(device)
    for name, p in net.named_parameters():
        p.requires_grad = name.startswith(net.trained_prefixes())
    body = [p for n, p in net.named_parameters() if p.requires_grad and n.startswith("encoder.")]
    head = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith("encoder.")]
    opt = torch.optim.AdamW([{"params": body, "lr": lr}, {"params": head, "lr": head_lr}], weight_decay=WD)
    train = unpack(data["train"])
    dev_rows = unpack(data["dev"])
    if lower_cached:
        cache_lower(net, train + dev_rows, device, log)
    steps = epochs * ((len(train) + batch_size - 1) // batch_size)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    gen = torch.Generator().manual_seed(seed)
    history: list[dict[str, Any]] = []
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        if history and time.perf_counter() + (time.perf_counter() - started) / len(history) > deadline:
            log(f"stopping before epoch {epoch}: the deadline is near")
            break
        net.train()
        order = torch.randperm(len(train), generator=gen).tolist()
        total, n = 0.0, 0
        for b in range(0, len(order), batch_size):
            items = [train[i] for i in order[b : b + batch_size]]
            ids, rule, dep, mask, labels = batch(items, device, net.pad_id)
            with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=bf16):
                logits = net.upper(upper_input(net, items, ids, mask), rule, dep, mask)
            loss = F.cross_entropy(logits.float().reshape(-1, len(LABELS)), labels.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(body + head, 1.0)
            opt.step()
            sched.step()
            total += float(loss.detach())
            n += 1
        # Score the weights as they will be stored (fp16). The probe is built anew each epoch on
        # purpose: building it draws from torch's generator (the head's initial weights), and the
        # shipped weights' sha256 depends on that order of draws.
        state = trained_state(net)
        probe = base_network(int(data["n_deps"]), int(data["first_trained"]), base, encoder)
        probe.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        dev = proxy_dev(probe.to(device), dev_rows, device)
        history.append(
            {
                "epoch": epoch,
                "loss": round(total / max(1, n), 4),
                "dev_proxy": dev,
                "seconds": round(time.perf_counter() - started),
            }
        )
        log(f"epoch {epoch}: loss {total / max(1, n):.4f} dev runs F1 {dev} ({time.perf_counter() - started:.0f} s)")
        if best is None or dev["mean"] > best[0]:
            best = (dev["mean"], epoch, state)
    assert best is not None
    return best[2], history, best[1]


def save_state(state: dict[str, torch.Tensor], stem: Path) -> list[Path]:
    """``state`` as ``stem.0.safetensors``, ``stem.1.safetensors``... each under PART_BYTES."""
    parts: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for k in sorted(state):
        nbytes = state[k].numel() * state[k].element_size()
        if parts[-1] and size + nbytes > PART_BYTES:
            parts.append({})
            size = 0
        parts[-1][k] = state[k]
        size += nbytes
    paths = []
    for i, part in enumerate(parts):
        path = stem.parent / f"{stem.name}.{i}.safetensors"
        save_file(part, str(path))
        paths.append(path)
    return paths


def read_state(stem: Path) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for path in sorted(stem.parent.glob(f"{stem.name}.*.safetensors")):
        state.update(load_file(str(path)))
    if not state:
        raise FileNotFoundError(f"no {stem}.N.safetensors")
    return state


def digest(state: dict[str, torch.Tensor]) -> str:
    return hashlib.sha256(b"".join(state[k].numpy().tobytes() for k in sorted(state))).hexdigest()


def run_meta(
    data: dict[str, Any], args: argparse.Namespace, lr: float, history: list[dict[str, Any]], kept: int
) -> dict[str, Any]:
    return {
        "recipe": {
            "encoder": str(data.get("encoder", "minilm")),
            "first_trained_layer": int(data["first_trained"]),
            "seed": args.seed,
            "lr": lr,
            "head_lr": args.head_lr,
            "weight_decay": WD,
            "batch": args.batch,
            "epochs_run": args.epochs,
            "epoch_kept": kept,
            "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
            "cpu_threads": args.threads,
            "lower_cached": args.cache_lower,
            "bf16_autocast": args.bf16,
        },
        "train_windows": len(data["train"]["lengths"]),
        "history": history,
        "train_seconds": history[-1]["seconds"] if history else 0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--name", default="tagger")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, nargs="+", default=[5e-5], help="several: a sweep, each run named NAME-lrX")
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument(
        "--threads", type=int, default=THREADS, help="CPU threads; part of the recipe (other counts give other weights)"
    )
    ap.add_argument(
        "--cache-lower",
        action="store_true",
        help="run the frozen layers once, without dropout, and train on their cached states (for a 12-layer base on a CPU)",
    )
    ap.add_argument("--bf16", action="store_true", help="training steps under bf16 autocast (GPU)")
    ap.add_argument(
        "--delta-rank",
        type=int,
        default=None,
        help="write the kept weights as each encoder matrix's rank-R change from the base (what the artefact "
        "stores; 21.6 MB for MPNet at 64 instead of 200 MB, so that a GPU machine can return them)",
    )
    ap.add_argument("--keep", type=int, default=2, help="keep the weights of this many best runs of a sweep")
    ap.add_argument(
        "--again", action="store_true", help="fit the best run once more and report whether the weights are identical"
    )
    ap.add_argument("--budget", type=float, default=float("inf"), help="seconds: start no run that would likely end after it")
    args = ap.parse_args(argv)
    if args.threads < 1:
        ap.error("--threads must be at least 1")
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    if args.device == "cuda":
        print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    data = torch.load(args.data)
    base = read_base(args.base)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, tuple[float, float]] = {}  # name -> (dev proxy mean, lr)
    longest = 0.0

    def one(name: str, lr: float) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        state, history, kept = fit(
            data,
            base,
            epochs=args.epochs,
            lr=lr,
            head_lr=args.head_lr,
            batch_size=args.batch,
            seed=args.seed,
            device=args.device,
            deadline=started + args.budget,
            lower_cached=args.cache_lower,
            bf16=args.bf16,
        )
        meta = run_meta(data, args, lr, history, kept)
        meta["sha256"] = digest(state)
        (args.out / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        print(
            json.dumps({"name": name, "kept": kept, "proxy": history[kept - 1]["dev_proxy"], "sha256": meta["sha256"][:16]}),
            flush=True,
        )
        return state, meta

    for lr in args.lr:
        name = args.name if len(args.lr) == 1 else f"{args.name}-lr{lr:g}"
        if time.perf_counter() - started + longest > args.budget:
            print(f"skipping {name}: over the time budget", flush=True)
            continue
        t0 = time.perf_counter()
        state, meta = one(name, lr)
        longest = max(longest, time.perf_counter() - t0)
        results[name] = (meta["history"][meta["recipe"]["epoch_kept"] - 1]["dev_proxy"]["mean"], lr)
        save_state(state if args.delta_rank is None else low_rank_delta(state, base, args.delta_rank), args.out / name)
        # Keep only the best runs' weights (a GPU machine returns few files).
        for drop in sorted(results, key=lambda k: -results[k][0])[args.keep :]:
            for path in args.out.glob(f"{drop}.*.safetensors"):
                path.unlink()
    if args.again and results:
        best = max(results, key=lambda k: results[k][0])
        if time.perf_counter() - started + longest > args.budget:
            print("skipping the rerun: over the time budget", flush=True)
        else:
            _, meta = one(f"again-{best}", results[best][1])
            first = json.loads((args.out / f"{best}.json").read_text(encoding="utf-8"))
            print(f"rerun of {best} identical: {first['sha256'] == meta['sha256']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

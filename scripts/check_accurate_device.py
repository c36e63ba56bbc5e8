"""Does the accurate tagger's network read the same on a GPU as on the CPU? (torch only, no spaCy)

    .venv/bin/python scripts/train_attribution_accurate.py --export .devdata     # here: windows.pt, base.safetensors
    python3 scripts/check_accurate_device.py --data .devdata --out OUT/device.json   # on the GPU machine

A shipped tagger (``--artefact``: the MiniLM one by default, or ``attribution_accurate_mpnet.safetensors``
over an ``--encoder mpnet`` export) is built over the exported base and run over PolNeAR dev's
windows on the CPU in float32 and on each CUDA device in float32 and under bfloat16 autocast.
For each run: the dev proxy of ``fit_attribution_tagger`` (exact F1 of BIO runs per role, each
document decoded whole), how many tokens take another label than on the CPU, the largest
difference in a label log-probability, and windows per second.
``AccurateTagger`` picks CUDA by itself where torch sees one (``transformer.AccurateTagger.from_state``);
this script checks that what it would compute there is what the CPU computes. MPNet's exported base
(200 MB) is larger than what one device call carries; docs/accuracy.md ("What the sixteenth round
did") says how it was sent in pieces.
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
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_attribution_tagger as fitter  # also makes the network modules importable without spaCy

from reportedly.attribution.tagger_network import TaggerNetwork, base_network, expand_low_rank

MODELS = Path(__file__).resolve().parents[1] / "src/reportedly/models"


def network(data: dict[str, Any], base: dict[str, torch.Tensor], artefact: Path) -> TaggerNetwork:
    meta = json.loads(artefact.with_suffix(".json").read_text(encoding="utf-8"))
    n_deps = len(meta["deps"]) + 1
    if n_deps != int(data["n_deps"]):
        raise SystemExit(f"the export has {data['n_deps']} dependency ids, the artefact {n_deps}: export again")
    net = base_network(n_deps, int(meta["recipe"]["first_trained_layer"]), base, str(meta["recipe"].get("encoder", "minilm")))
    state = expand_low_rank(load_file(str(artefact)), net.state_dict())
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    return net.eval()


def logprobs(
    net: TaggerNetwork, dev: Sequence[fitter.Example], device: str, autocast: torch.dtype | None
) -> tuple[list[torch.Tensor], float]:
    """Per window, the label log-probabilities of the labelled tokens (CPU float32), and the seconds taken."""
    net = net.to(device)
    out: list[torch.Tensor] = []
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    kind = device.split(":")[0]
    with torch.inference_mode(), torch.autocast(kind, dtype=autocast or torch.float32, enabled=autocast is not None):
        for b in range(0, len(dev), 64):
            items = dev[b : b + 64]
            ids, rule, dep, mask, labels = fitter.batch(items, device, net.pad_id)
            lp = torch.log_softmax(net(ids, rule, dep, mask).float(), -1)
            keep = labels >= 0
            out += [lp[r][keep[r]].cpu() for r in range(len(items))]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return out, time.perf_counter() - started


def proxy(lps: Sequence[torch.Tensor], dev: Sequence[fitter.Example]) -> dict[str, float]:
    docs: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}
    for lp, e in zip(lps, dev, strict=True):
        docs.setdefault(int(e["doc"]), []).append((lp, e["label"][e["label"] >= 0].long()))
    return fitter.proxy_score(docs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="the folder train_attribution_accurate.py --export wrote")
    ap.add_argument("--artefact", type=Path, default=MODELS / "attribution_accurate.safetensors")
    ap.add_argument("--out", type=Path, default=None, help="write the figures here as JSON")
    ap.add_argument("--threads", type=int, default=fitter.THREADS, help="CPU threads for the CPU run")
    ap.add_argument("--limit", type=int, default=None, help="only the first N windows (a quick try)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = torch.load(args.data / "windows.pt", weights_only=True)
    dev = fitter.unpack(data["dev"])[: args.limit]
    net = network(data, fitter.read_base(args.data / "base.safetensors"), args.artefact)
    runs: list[tuple[str, torch.dtype | None]] = [("cpu", None)]
    runs += [(f"cuda:{i}", dtype) for i in range(torch.cuda.device_count()) for dtype in (None, torch.bfloat16)]
    report: dict[str, Any] = {"torch": torch.__version__, "artefact": args.artefact.name, "windows": len(dev), "runs": []}
    reference: list[torch.Tensor] = []
    for device, dtype in runs:
        logprobs(net, dev[:64], device, dtype)  # warm-up: kernels chosen, memory taken
        lps, seconds = logprobs(net, dev, device, dtype)
        if not reference:
            reference = lps
        changed = sum(int((a.argmax(-1) != b.argmax(-1)).sum()) for a, b in zip(lps, reference, strict=True))
        tokens = sum(len(a) for a in lps)
        row = {
            "device": torch.cuda.get_device_name(device) if device.startswith("cuda") else f"cpu, {args.threads} threads",
            "precision": "bfloat16 autocast" if dtype is not None else "float32",
            "dev_proxy": proxy(lps, dev),
            "tokens": tokens,
            "labels_changed_vs_cpu": changed,
            "max_abs_logprob_diff_vs_cpu": round(max(float((a - b).abs().max()) for a, b in zip(lps, reference, strict=True)), 6),
            "seconds": round(seconds, 3),
            "windows_per_s": round(len(dev) / seconds, 1),
        }
        report["runs"].append(row)
        print(json.dumps(row), flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

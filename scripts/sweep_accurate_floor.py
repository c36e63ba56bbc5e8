"""PolNeAR dev figures of ``--model accurate`` at several cue floors (``ACCURATE_MIN_CONFIDENCE``).

    .venv/bin/python scripts/sweep_accurate_floor.py 0.5 0.65 0.8

The accurate tagger's log-probabilities are computed once per article and reused for every floor,
so each floor after the first costs only the rest of the analysis. The scorer is ``eval polnear``'s.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import torch
from spacy.tokens import Doc

import reportedly
from reportedly.attribution import transformer
from reportedly.attribution.extractor import Candidate
from reportedly.evaluation.polnear import load_split
from reportedly.evaluation.runner import evaluate
from reportedly.pipeline import analyzer

ROLES = ("source", "cue", "content", "attribution")


def memoise_tagger() -> None:
    """Keep the ensemble's per-article log-probabilities by text (the analysis reparses each round)."""
    memo: dict[str, dict[int, torch.Tensor]] = {}
    compute = transformer.TaggerEnsemble.doc_logprobs

    def doc_logprobs(
        self: transformer.TaggerEnsemble,
        docs: Sequence[Doc],
        paragraphs: Sequence[Sequence[tuple[int, int]]],
        rules: Sequence[Sequence[Candidate]],
    ) -> list[dict[int, torch.Tensor]]:
        todo = [k for k, d in enumerate(docs) if d.text not in memo]
        if todo:
            got = compute(self, [docs[k] for k in todo], [paragraphs[k] for k in todo], [rules[k] for k in todo])
            memo.update((docs[k].text, lp) for k, lp in zip(todo, got, strict=True))
        return [memo[d.text] for d in docs]

    transformer.TaggerEnsemble.doc_logprobs = doc_logprobs  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("floors", type=float, nargs="+")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    memoise_tagger()
    docs = load_split("dev")
    print("floor | " + " | ".join(f"{r} exact P / R / F1" for r in ROLES))
    for floor in args.floors:
        analyzer.ACCURATE_MIN_CONFIDENCE = floor
        reportedly.get_analyzer.cache_clear()  # the analyser reads the floor when it is built
        started = time.perf_counter()
        overall = evaluate(docs, "reportedly", model="accurate")["overall"]
        cells = [" / ".join(f"{overall[r]['exact'][m]:.3f}" for m in ("precision", "recall", "f1")) for r in ROLES]
        print(f"{floor} | " + " | ".join(cells) + f" | {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

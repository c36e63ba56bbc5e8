"""The accurate attribution tagger's network, free of spaCy so that it trains where spaCy is absent.

all-MiniLM-L6-v2 (the plain-torch BERT of :mod:`reportedly.voice.transformer`) with two small
embeddings added to the states entering layer ``first_trained`` (the rules' BIO role of the word and
its spaCy dependency label) and a linear head over the 7 BIO labels. Layers below ``first_trained``
and the embeddings stay the base model's; everything from ``first_trained`` up is what training
changes and what the artefact stores. :mod:`reportedly.attribution.transformer` runs it on spaCy
Docs; ``scripts/fit_attribution_tagger.py`` trains it from prepared windows (CPU or GPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from reportedly.voice.transformer import HIDDEN, LAYERS, _Embeddings, _Encoder

LABELS = ("O", "B-SRC", "I-SRC", "B-CUE", "I-CUE", "B-CON", "I-CON")
LABEL_ID = {t: i for i, t in enumerate(LABELS)}
WINDOW = 256


@dataclass
class Window:
    """One encoder input: wordpiece ids with [CLS]/[SEP], the rule tag and dependency id per piece,
    and for each piece the spaCy token it starts (-1 when it does not start one)."""

    ids: list[int]
    rule: list[int]
    dep: list[int]
    token: list[int]


class TaggerNetwork(nn.Module):
    """BERT (all-MiniLM-L6-v2 shape) with rule and dependency embeddings entering layer
    ``first_trained``, and a linear head over the 7 BIO labels."""

    def __init__(self, n_deps: int, first_trained: int = 4) -> None:
        super().__init__()
        if not 0 <= first_trained < LAYERS:
            raise ValueError(f"first_trained must be in 0..{LAYERS - 1}, not {first_trained}")
        self.first_trained = first_trained
        self.embeddings = _Embeddings()
        self.encoder = _Encoder()
        self.rule_embeddings = nn.Embedding(len(LABELS), HIDDEN)
        self.dep_embeddings = nn.Embedding(n_deps, HIDDEN)
        self.classifier = nn.Linear(HIDDEN, len(LABELS))
        self.dropout = nn.Dropout(0.1)
        for p in (self.rule_embeddings.weight, self.dep_embeddings.weight):
            nn.init.zeros_(p)

    @staticmethod
    def _bias(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min

    def lower(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The frozen part: token states entering layer ``first_trained``."""
        e = self.embeddings
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x: torch.Tensor = (
            e.word_embeddings(ids) + e.position_embeddings(positions) + e.token_type_embeddings(torch.zeros_like(ids))
        )
        x = e.dropout(e.LayerNorm(x))
        bias = self._bias(mask, x.dtype)
        for layer in self.encoder.layer[: self.first_trained]:
            x = layer(x, bias)
        return x

    def upper(self, x: torch.Tensor, rule: torch.Tensor, dep: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Label logits per wordpiece from the states entering layer ``first_trained``."""
        x = x + self.rule_embeddings(rule) + self.dep_embeddings(dep)
        bias = self._bias(mask, x.dtype)
        for layer in self.encoder.layer[self.first_trained : LAYERS]:
            x = layer(x, bias)
        out: torch.Tensor = self.classifier(self.dropout(x))
        return out

    def forward(self, ids: torch.Tensor, rule: torch.Tensor, dep: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.upper(self.lower(ids, mask), rule, dep, mask)

    def trained_prefixes(self) -> tuple[str, ...]:
        """Names of what training changes (and the artefact stores)."""
        layers = (f"encoder.layer.{i}." for i in range(self.first_trained, LAYERS))
        return (*layers, "rule_", "dep_", "classifier.")


def base_network(n_deps: int, first_trained: int, base: dict[str, torch.Tensor]) -> TaggerNetwork:
    """The network with the base weights ``base`` (all-MiniLM-L6-v2's names) and untrained extras."""
    net = TaggerNetwork(n_deps, first_trained)
    state = {k: v.float() for k, v in base.items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith(("rule_", "dep_", "classifier.")) for k in missing):
        raise ValueError(f"all-MiniLM-L6-v2 weights do not fit: {unexpected[:3]} {missing[:3]}")
    return net.eval()


def trained_state(net: TaggerNetwork) -> dict[str, torch.Tensor]:
    """What training changes, in fp16 (``TaggerNetwork.trained_prefixes``)."""
    prefixes = net.trained_prefixes()
    return {k: v.detach().to(torch.float16).cpu().contiguous() for k, v in net.state_dict().items() if k.startswith(prefixes)}


def pad(batch: Sequence[Window]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """ids, rule ids, dependency ids and the attention mask, padded to the longest window."""
    n = max(len(w.ids) for w in batch)
    ids = torch.zeros(len(batch), n, dtype=torch.long)
    rule = torch.zeros(len(batch), n, dtype=torch.long)
    dep = torch.zeros(len(batch), n, dtype=torch.long)
    mask = torch.zeros(len(batch), n, dtype=torch.long)
    for r, w in enumerate(batch):
        k = len(w.ids)
        ids[r, :k] = torch.tensor(w.ids)
        rule[r, :k] = torch.tensor(w.rule)
        dep[r, :k] = torch.tensor(w.dep)
        mask[r, :k] = 1
    return ids, rule, dep, mask


def _allowed() -> torch.Tensor:
    """allowed[a, b]: label b may follow label a (an I- only after its role's B- or I-)."""
    ok = torch.ones(len(LABELS), len(LABELS), dtype=torch.bool)
    for b, tag in enumerate(LABELS):
        if tag.startswith("I-"):
            for a, prev in enumerate(LABELS):
                ok[a, b] = prev[2:] == tag[2:]
    return ok


_ALLOWED = _allowed()
_START_OK = torch.tensor([not t.startswith("I-") for t in LABELS])


def viterbi(logprobs: torch.Tensor) -> list[int]:
    """The best label sequence under the BIO constraint (``logprobs``: tokens x labels, CPU float)."""
    n = logprobs.shape[0]
    if n == 0:
        return []
    neg = torch.tensor(-1e9)
    trans = torch.where(_ALLOWED, torch.tensor(0.0), neg)
    score = torch.where(_START_OK, logprobs[0], neg)
    back = []
    for i in range(1, n):
        cand = score[:, None] + trans  # prev x next
        best, arg = cand.max(0)
        back.append(arg)
        score = best + logprobs[i]
    path = [int(score.argmax())]
    for arg in reversed(back):
        path.append(int(arg[path[-1]]))
    return path[::-1]


def runs(labels: Sequence[int]) -> set[tuple[str, int, int]]:
    """(role, start, end) of each BIO run in a label-id sequence (end exclusive)."""
    out: set[tuple[str, int, int]] = set()
    start, role = -1, ""
    for i, lab in enumerate([*labels, 0]):
        tag = LABELS[lab]
        if start >= 0 and (tag == "O" or tag.startswith("B-") or tag[2:] != role):
            out.add((role, start, i))
            start = -1
        if tag.startswith("B-") or (tag.startswith("I-") and start < 0):
            start, role = i, tag[2:]
    return out

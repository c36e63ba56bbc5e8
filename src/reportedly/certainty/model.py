"""Learned event factuality: how firmly the text presents one predicate, on the -3..+3 scale.

The hedge rules (``hedges.py``) give each claim a class; this model gives the event a number,
learned from the UW and MEANTIME factuality corpora (``scripts/train_factuality.py``). Features
come from the one spaCy parse: the word and its tag, auxiliaries and modals, negation (also on a
negative subject: "No one held her back"), hedge cues, clause marks ("if", "whether"), and the
same for each governing word up the tree with the kind of embedding predicate (speech, belief,
intent, future-oriented, negative such as "refuse" or "cancel"), a question, a quotation.

The model is linear, so scoring a claim costs a few dictionary look-ups: the throughput target of
the whole analysis (>= 0.8x bare spaCy) leaves no room for a per-sentence neural encoder. The two
corpora grade differently (MEANTIME calls modal "can fly" unknown, UW calls it likely), so the
weights are trained with feature augmentation (Daumé III, 2007): a shared weight per feature plus
a per-corpus correction, and a per-corpus isotonic calibration. Reports use the UW scale
(graded, news-wire).

The artefact is plain JSON (gzip), loaded once on first use; no scikit-learn at run time.
"""

from __future__ import annotations

import gzip
import json
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from spacy.attrs import ORTH
from spacy.tokens import Doc, Span, Token

from reportedly import lexicons
from reportedly.pipeline import doccache as dc

ARTEFACT = "factuality.json.gz"
DEFAULT_DOMAIN = "uw"

_MODALS = {"will", "would", "may", "might", "could", "can", "should", "must", "shall", "'ll", "wo", "ca"}
_NEGATIVE_WORDS = {"not", "n't", "never", "no", "nothing", "none", "neither", "nor", "without"}
_NEGATIVE_ARGS = {"nobody", "nothing", "none", "neither", "no"}
# Predicate classes let ten thousand training events generalise beyond the verbs they contain.
_NEGATIVE_PREDICATES = {
    "refuse", "fail", "deny", "decline", "avoid", "prevent", "stop", "cancel", "reject", "block", "ban", "forbid",
    "halt", "suspend", "against", "without", "instead", "lack", "miss", "neglect", "abandon", "rule", "postpone",
    "delay", "drop", "scrap", "veto",
}  # fmt: skip
_FUTURE_PREDICATES = {
    "want", "plan", "hope", "expect", "intend", "seek", "try", "aim", "propose", "offer", "agree", "promise",
    "threaten", "ask", "urge", "order", "call", "need", "prepare", "schedule", "set", "decide", "vote", "consider",
    "push", "demand", "allow", "require", "wish", "like", "attempt", "plot", "vow", "pledge", "due", "able",
    "likely", "willing", "ready", "go", "permit", "help", "encourage", "force",
}  # fmt: skip
_FACTIVE_PREDICATES = {
    "know", "learn", "realize", "discover", "regret", "find", "show", "reveal", "admit", "acknowledge", "confirm",
    "prove", "see", "note",
}  # fmt: skip
_ANCESTORS = 4
_OPEN_QUOTES = ("``", "“")
_CLOSE_QUOTES = ("''", "”")


@lru_cache(maxsize=1)
def _hedge_words() -> dict[str, str]:
    return {k[0]: v for k, v in lexicons.load().hedges.items() if len(k) == 1}


@lru_cache(maxsize=1)
def _cue_kinds() -> dict[str, str]:
    return {lemma: kinds[0][0] for lemma, kinds in lexicons.load().cues.items()}


def _classes(lemma: str) -> list[str]:
    out = []
    if lemma in _NEGATIVE_PREDICATES:
        out.append("negpred")
    if lemma in _FUTURE_PREDICATES:
        out.append("futpred")
    if lemma in _FACTIVE_PREDICATES:
        out.append("factpred")
    kind = _cue_kinds().get(lemma)
    if kind is not None:
        out.append("cue_" + kind)
    return out


# The walks below read the tree by token index from ``dc.parse``: ``Token.children`` and
# ``Token.head`` make a new Token object on every read, and each claim looks at a dozen words.


def _negative_argument(p: dc.Parse, i: int) -> list[str]:
    for c in p.children(i):
        dep = p.dep[c]
        if dep in ("nsubj", "nsubjpass", "dobj", "attr") and (
            p.lower[c] in _NEGATIVE_ARGS or any(p.lower[g] == "no" and p.dep[g] in ("det", "neg") for g in p.children(c))
        ):
            return [dep + "_neg"]
    return []


def _local(p: dc.Parse, i: int, prefix: str) -> list[str]:
    """What sits on the word itself: auxiliaries, negation, clause mark, hedging adverbs."""
    hedges = _hedge_words()
    f: list[str] = []
    for c in p.children(i):
        low = p.lower[c]
        dep = p.dep[c]
        if dep == "neg" or low == "never":
            f.append(prefix + "neg")
        if dep in ("aux", "auxpass"):
            tag = p.tokens[c].tag_
            if tag == "MD" or low in _MODALS:
                f.append(prefix + "md=" + p.tokens[c].lemma_.lower())
            elif tag == "TO":
                f.append(prefix + "to")
            else:
                f.append(prefix + "aux=" + p.tokens[c].lemma_.lower())
        elif dep == "mark":
            f.append(prefix + "mark=" + low)
        elif dep == "advmod" and (low in hedges or low in _NEGATIVE_WORDS):
            f.append(prefix + "adv=" + low)
        elif dep == "det" and low in ("no", "any"):
            f.append(prefix + "det=" + low)
        if dep in ("amod", "advmod", "compound") and p.tokens[c].lemma_.lower() in _NEGATIVE_PREDICATES:
            f.append(prefix + "mod_negpred")  # "the now-cancelled deal"
        if low in hedges and dep not in ("aux", "auxpass"):
            f.append(prefix + "hedge=" + hedges[low])
    return f


@dataclass(frozen=True)
class _DocView:
    parse: dc.Parse
    sents: list[Span]
    sent_starts: list[int]
    sent_roots: list[int]
    quote_depth: list[int]  # quotes opened minus closed before each token


def _quote_depth(doc: Doc) -> list[int]:
    strings = doc.vocab.strings
    orth = doc.to_array(ORTH)
    opened = np.isin(orth, [strings[q] for q in _OPEN_QUOTES])
    closed = np.isin(orth, [strings[q] for q in _CLOSE_QUOTES])
    depth: list[int] = np.concatenate(([0], np.cumsum(opened.astype(np.int64) - closed))).tolist()
    return depth


def _view(doc: Doc) -> _DocView:
    def build(d: Doc) -> _DocView:
        return _DocView(dc.parse(d), dc.sents(d), dc.sent_starts(d), dc.sent_roots(d), _quote_depth(d))

    return dc.memo(doc, "factuality_view", build)


def event_features(tok: Token) -> list[str]:
    """Binary features of the event word ``tok`` in its parse (names only; all values are 1)."""
    view = _view(tok.doc)
    p = view.parse
    i = tok.i
    lemma = tok.lemma_.lower()
    tag = tok.tag_
    f = ["lemma=" + lemma, "tag=" + tag, "pos=" + tok.pos_, "dep=" + p.dep[i], "tag_dep=" + tag + "|" + p.dep[i]]
    f += ["cls=" + c for c in _classes(lemma)]
    f += _negative_argument(p, i)
    f += _local(p, i, "")
    # A conjunct shares its first conjunct's auxiliaries and embedding ("did not hurry or [wait]").
    top = i
    for _ in range(16):
        if p.dep[top] != "conj" or p.head[top] == top:
            break
        top = p.head[top]
        f += _local(p, top, "cj:")
        f += ["cj:" + x for x in _negative_argument(p, top)]
    cur = top
    for k in range(1, _ANCESTORS + 1):
        head, dep = p.head[cur], p.dep[cur]
        if head == cur:
            f.append(f"a{k}:root")
            break
        head_lemma = p.tokens[head].lemma_.lower()
        f += [
            f"a{k}:dep={dep}",
            f"a{k}:dep_lemma={dep}|{head_lemma}",
            f"a{k}:dep_tag={dep}|{p.tokens[head].tag_}",
            "anc:lemma=" + head_lemma,
        ]
        if k == 1:
            f.append(f"a1:dep_lemma_tag={dep}|{head_lemma}|{tag}")
        for c in _classes(head_lemma):
            f += [f"a{k}:cls={c}|{dep}", "anc:cls=" + c]
        f += ["anc:" + x for x in _negative_argument(p, head)]
        local = _local(p, head, "anc:")
        f += local
        if k == 1:
            f += ["a1:" + x[4:] for x in local]
        cur = head
    k = bisect_right(view.sent_starts, i) - 1
    sent = view.sents[k]
    if any(t.text == "?" for t in p.tokens[max(sent.start, sent.end - 2) : sent.end]):  # sent[-2:]
        f.append("question")
    if view.quote_depth[i] > view.quote_depth[sent.start]:  # more quotes opened than closed since the sentence began
        f.append("in_quote")
    root = view.sent_roots[k]
    f.append("rel_pos=" + ("root" if i == root else "before_root" if i < root else "after_root"))
    return f


@dataclass(frozen=True)
class FactualityModel:
    """Linear weights (shared + per-corpus correction) and a per-corpus isotonic calibration."""

    intercept: float
    weights: dict[str, tuple[float, ...]]  # feature -> (shared, domain 1, domain 2, ...)
    domains: tuple[str, ...]
    domain_scale: float  # value of the per-corpus copy of each feature (relative regularisation)
    calibration: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]  # domain -> (x thresholds, y values)
    meta: dict[str, Any]
    # domain -> feature -> its weight in that domain, filled on first use (scoring runs per claim)
    _by_domain: dict[str, dict[str, float]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def raw(self, features: list[str], domain: str = DEFAULT_DOMAIN) -> float:
        weights = self._by_domain.get(domain)
        if weights is None:
            d = self.domains.index(domain) + 1
            # The same sum per feature as before, once: the total adds the same floats in the same order.
            weights = self._by_domain[domain] = {k: w[0] + self.domain_scale * w[d] for k, w in self.weights.items()}
        total = self.intercept
        for name in features:
            w = weights.get(name)
            if w is not None:
                total += w
        return max(-3.0, min(3.0, total))

    def predict_features(self, features: list[str], domain: str = DEFAULT_DOMAIN) -> float:
        return _interpolate(self.raw(features, domain), *self.calibration[domain])

    def predict(self, tok: Token, domain: str = DEFAULT_DOMAIN) -> float:
        """Factuality of the event word ``tok``: -3 (did not happen) .. 0 (unknown) .. +3 (happened)."""
        return self.predict_features(event_features(tok), domain)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "reportedly.factuality/linear-augmented",
            "intercept": self.intercept,
            "domains": list(self.domains),
            "domain_scale": self.domain_scale,
            "weights": {k: list(v) for k, v in sorted(self.weights.items())},
            "calibration": {d: {"x": list(x), "y": list(y)} for d, (x, y) in self.calibration.items()},
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FactualityModel:
        return cls(
            intercept=float(data["intercept"]),
            weights={k: tuple(float(x) for x in v) for k, v in data["weights"].items()},
            domains=tuple(data["domains"]),
            domain_scale=float(data["domain_scale"]),
            calibration={d: (tuple(c["x"]), tuple(c["y"])) for d, c in data["calibration"].items()},
            meta=dict(data.get("meta", {})),
        )


def _interpolate(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    """Piecewise-linear, flat outside the thresholds: what sklearn's IsotonicRegression.predict does."""
    if not xs:
        return x
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    j = bisect_right(xs, x)
    x0, x1, y0, y1 = xs[j - 1], xs[j], ys[j - 1], ys[j]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def write_model(model: FactualityModel, path: str) -> None:
    raw = json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with open(path, "wb") as fh:
        # mtime=0: the same model gives the same bytes, so a retrain shows up in git only if it changed
        fh.write(gzip.compress(raw, compresslevel=9, mtime=0))


def read_model(data: bytes) -> FactualityModel:
    return FactualityModel.from_json(json.loads(gzip.decompress(data).decode("utf-8")))


@lru_cache(maxsize=1)
def load_factuality_model() -> FactualityModel:
    """The shipped model, read once per process."""
    return read_model(resources.files("reportedly.models").joinpath(ARTEFACT).read_bytes())

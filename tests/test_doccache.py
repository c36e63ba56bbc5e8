"""The per-doc lists of ``doccache`` must read exactly what spaCy's Token attributes give."""

from __future__ import annotations

import random

import spacy
from spacy.tokens import Doc
from spacy.vocab import Vocab

from reportedly.attribution.spans import subtree_minus
from reportedly.pipeline import doccache as dc


def _random_docs(count: int) -> list[Doc]:
    """Forests with crossing arcs: where spaCy's edges can stop short of the whole subtree."""
    rnd = random.Random(7)
    vocab = Vocab()
    docs = []
    for _ in range(count):
        n = rnd.randint(1, 25)
        roots = rnd.sample(range(n), rnd.randint(1, max(1, n // 8)))
        heads = list(range(n))
        placed = list(roots)
        for i in rnd.sample([i for i in range(n) if i not in roots], n - len(roots)):
            heads[i] = rnd.choice(placed)
            placed.append(i)
        deps = ["ROOT" if heads[i] == i else "dep" for i in range(n)]
        docs.append(Doc(vocab, words=[f"w{i}" for i in range(n)], heads=heads, deps=deps))
    return docs


def test_edges_and_subtrees_match_spacy() -> None:
    for doc in _random_docs(300):
        left, right = dc.edges(doc)
        assert left == [t.left_edge.i for t in doc]
        assert right == [t.right_edge.i for t in doc]
        for t in doc:
            assert subtree_minus(t) == {s.i for s in t.subtree}


def test_token_lists_match_token_attributes() -> None:
    doc = Doc(
        spacy.blank("en").vocab,  # English lexical attributes: lower case is read from the vocab
        words=["Trump", "SAID", "“", "no", "”", "."],
        pos=["PROPN", "VERB", "PUNCT", "INTJ", "PUNCT", "PUNCT"],
        heads=[1, 1, 3, 1, 3, 1],
        deps=["nsubj", "ROOT", "punct", "ccomp", "punct", "punct"],
    )
    assert dc.texts(doc) == [t.text for t in doc]
    assert dc.lowers(doc) == [t.lower_ for t in doc] == ["trump", "said", "“", "no", "”", "."]
    assert dc.deps(doc) == [t.dep_ for t in doc]
    assert dc.pos(doc) == [t.pos_ for t in doc]
    assert dc.tags(doc) == [t.tag_ for t in doc]
    assert dc.lower_lemmas(doc) == [t.lemma_.lower() for t in doc]
    assert dc.puncts(doc) == [t.is_punct for t in doc]
    assert dc.spaces(doc) == [t.is_space for t in doc]

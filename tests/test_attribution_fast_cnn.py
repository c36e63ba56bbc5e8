"""The fast attribution tagger (a dilated CNN over the CRF's features and spaCy's vectors):
numpy inference against the torch network it was trained as, decoding, retraining, scores."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reportedly.attribution.convtagger import ARTEFACT, LABELS, ConvExtractor, ConvNet, viterbi, viterbi_many
from reportedly.evaluation.polnear import load_split
from reportedly.evaluation.runner import evaluate
from reportedly.ingest import paragraph_spans
from reportedly.pipeline.nlp import load_nlp

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "src/reportedly/models"
sys.path.insert(0, str(ROOT / "scripts"))


def _ids(net: ConvNet, feats: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The feature ids of every token, flattened, and where each token's run starts: what torch's
    EmbeddingBag takes (an unseen feature is id 0, a token with none reads one 0)."""
    flat: list[int] = []
    offsets: list[int] = []
    for fs in feats:
        offsets.append(len(flat))
        flat.extend([net.vocab[f] for f in fs] or [0])
    return np.asarray(flat, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


def test_numpy_network_computes_what_the_torch_network_trained() -> None:
    """The shipped network runs on numpy; its log-probabilities must be the torch module's, windows
    of one token included (a dilation longer than the window), unknown features included."""
    torch = pytest.importorskip("torch")
    from train_attribution_fast_cnn import build_network

    torch.manual_seed(0)
    net = build_network(50, 8, 16, (1, 2, 4), 0.2)
    net.eval()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.3)
    state = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    numpy_net = ConvNet.from_state(state, [f"f{i}" for i in range(50)], (1, 2, 4))
    rng = np.random.default_rng(0)
    lengths = [5, 1, 9]
    feats = [[f"f{j}" for j in rng.integers(0, 60, size=rng.integers(1, 6))] for _ in range(sum(lengths))]
    tensor = rng.normal(size=(sum(lengths), 96)).astype(np.float32)
    flat, offsets = _ids(numpy_net, feats)
    with torch.no_grad():
        want = torch.log_softmax(net(torch.tensor(flat), torch.tensor(offsets), torch.tensor(tensor), lengths), -1).numpy()
    got = numpy_net.logprobs(feats, tensor, lengths)
    assert np.abs(got - want).max() < 1e-4


def _random_state(seed: int, features: int, dim: int, width: int) -> dict[str, np.ndarray]:
    """A one-convolution network's ``state_dict`` as the training script names it, random."""
    rng = np.random.default_rng(seed)
    return {
        "emb.weight": rng.normal(size=(features + 1, dim)),
        "tproj.weight": rng.normal(size=(dim, 96)),
        "tproj.bias": rng.normal(size=dim),
        "inp.weight": rng.normal(size=(width, 2 * dim)),
        "inp.bias": rng.normal(size=width),
        "convs.0.weight": rng.normal(size=(width, width, 3)),
        "convs.0.bias": rng.normal(size=width),
        "norms.0.weight": rng.normal(size=width),
        "norms.0.bias": rng.normal(size=width),
        "out.weight": rng.normal(size=(len(LABELS), width)),
        "out.bias": rng.normal(size=len(LABELS)),
    }


def test_save_and_load_keep_the_network(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    state = _random_state(1, 3, 3, 5)
    net = ConvNet.from_state(state, ["w=said", "l=say", "p=VERB"], (2,), cover="cue", context=False)
    net.save(tmp_path / "a.npz")
    net.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()  # no timestamps
    back = ConvNet.load(tmp_path / "a.npz")
    assert back.vocab == net.vocab
    assert (back.cover, back.context) == ("cue", False)  # what the extractor must feed it
    feats = [["w=said", "p=VERB"], ["l=say", "unseen"], []]
    tensor = rng.normal(size=(3, 96)).astype(np.float32)
    # float16 storage: equal to the float32 network within rounding
    assert np.abs(back.logprobs(feats, tensor, [3]) - net.logprobs(feats, tensor, [3])).max() < 0.05


def test_viterbi_keeps_runs_well_formed() -> None:
    """An I- tag only continues a run of its own role, even where the network prefers otherwise."""
    lp = np.log(np.full((4, len(LABELS)), 0.01, dtype=np.float32))
    lp[0, LABELS.index("O")] = 0.0
    lp[1, LABELS.index("I-CON")] = 0.0  # after O: not allowed
    lp[2, LABELS.index("B-CUE")] = 0.0
    lp[3, LABELS.index("I-SRC")] = 0.0  # after a cue: not allowed
    tags = [LABELS[i] for i in viterbi(lp)]
    for prev, tag in zip(["O", *tags], tags, strict=False):
        assert not tag.startswith("I-") or prev[2:] == tag[2:], tags
    assert tags[2] == "B-CUE"


def test_viterbi_finds_the_best_legal_path_whether_or_not_the_best_labels_form_one() -> None:
    """Against every path of 4 tokens: where each token's best label already makes a legal run the
    decoder returns it at once; elsewhere it searches. Both must give the best legal path."""
    import itertools

    def legal(path: tuple[int, ...]) -> bool:
        tags = [LABELS[i] for i in path]
        return all(not t.startswith("I-") or p[2:] == t[2:] for p, t in zip(["O", *tags], tags, strict=False))

    paths = [p for p in itertools.product(range(len(LABELS)), repeat=4) if legal(p)]
    rng = np.random.default_rng(3)
    shortcut = 0
    for _ in range(60):
        lp = rng.normal(size=(4, len(LABELS))).astype(np.float32)
        shortcut += legal(tuple(int(i) for i in lp.argmax(1)))
        best = max(paths, key=lambda p: sum(float(lp[k, i]) for k, i in enumerate(p)))
        assert tuple(viterbi(lp)) == best
    assert 0 < shortcut < 60  # both branches ran


def test_viterbi_many_decodes_each_run_on_its_own() -> None:
    """Runs decoded together give each run's own best legal path (brute force over every path),
    the first label of a run never continuing the previous run's; lengths must cover the rows."""
    import itertools

    def legal(path: tuple[int, ...]) -> bool:
        tags = [LABELS[i] for i in path]
        return all(not t.startswith("I-") or p[2:] == t[2:] for p, t in zip(["O", *tags], tags, strict=False))

    rng = np.random.default_rng(7)
    lengths = [3, 1, 0, 4, 2, 4]
    lp = rng.normal(size=(sum(lengths), len(LABELS))).astype(np.float32)
    lp[3, LABELS.index("I-CUE")] = 9.0  # the one-token run: its best label alone is illegal
    lp[2, LABELS.index("B-CUE")] = 9.0  # ... even after a cue ending the run before it
    at, searched = 0, 0
    for n, got in zip(lengths, viterbi_many(lp, lengths), strict=True):
        part = lp[at : at + n]
        paths = [p for p in itertools.product(range(len(LABELS)), repeat=n) if legal(p)]
        best = max(paths, key=lambda p: sum(float(part[k, i]) for k, i in enumerate(p)))
        assert tuple(got) == best
        assert got == viterbi(part)
        searched += n > 0 and not legal(tuple(int(i) for i in part.argmax(1)))
        at += n
    assert searched >= 2
    assert LABELS[viterbi_many(lp, lengths)[1][0]] != "I-CUE"
    with pytest.raises(ValueError, match="lengths"):
        viterbi_many(lp, [3, 1])


def test_the_extractor_reads_a_dev_article_with_and_without_vectors() -> None:
    """On a PolNeAR dev article parsed live, the tagger finds attributions whose cues are words of
    the text; a doc without tok2vec vectors (from a DocBin) still gets tags, not an error."""
    from reportedly.attribution.extractor import extract

    (gold,) = load_split("dev", limit=1)
    doc = load_nlp()(gold.text)
    paras = [(p.start, p.end) for p in paragraph_spans(gold.text)]
    rules = extract(doc, paras)
    ext = ConvExtractor()
    found = ext.extract(doc, paras, rules)
    assert found and all(0 <= c.confidence <= 1 for c in found)
    assert all(gold.text[c.cue[0] : c.cue[1]].strip() for c in found)
    doc.tensor = np.zeros((0, 0), dtype=np.float32)
    assert len(ext.tag(doc, paras, rules)) == len(doc)


def test_feature_ids_are_the_ids_of_the_feature_strings_in_their_order() -> None:
    """The network reads ids built by template and value, never the strings: on two dev articles
    parsed live they must be the vocabulary's ids of :func:`featurize`'s strings (``context=False``)
    in the same order, unseen ones left out, so the summed vectors are the same to the bit; the
    remembered values start over once past their bound, and the ids stay the same."""
    from reportedly.attribution.extractor import extract
    from reportedly.attribution.learned import FeatureIds, feature_ids, featurize

    ext = ConvExtractor()
    net = ext.net
    ids = FeatureIds(net.vocab)
    nlp = load_nlp()
    for gold in load_split("dev", limit=2):
        doc = nlp(gold.text)
        paras = [(p.start, p.end) for p in paragraph_spans(gold.text)]
        rules = extract(doc, paras)
        sel = [i for i in range(len(doc)) if i % 3]  # gaps: the features still see the whole doc
        strings = featurize(doc, paras, rules, ext.cue_prior, select=sel, context=False)
        want = [[net.vocab[f] for f in fs if net.vocab[f]] for fs in strings]
        for _ in range(2):  # the second time from remembered values
            flat, counts = feature_ids(doc, paras, rules, ext.cue_prior, sel, ids)
            assert counts == [len(w) for w in want]
            assert flat == [i for w in want for i in w]
        assert 0 < sum(counts) < sum(map(len, strings))  # some strings are unseen in training
        assert np.array_equal(net.bags_of_ids(flat, counts), net.bags(strings))
    remembered = sum(map(len, ids.templates.values()))
    assert remembered > 100
    ids.MAX_VALUES = 100
    assert feature_ids(doc, paras, rules, ext.cue_prior, sel, ids) == (flat, counts)
    assert 0 < sum(map(len, ids.templates.values())) < remembered  # started over, then refilled


def test_retraining_gives_the_same_bytes_whatever_the_thread_default(tmp_path: Path) -> None:
    """A fixed seed and thread count: two trainings on a slice write the same model, the first
    parsing the articles, the second reading them from the cache the first wrote (which must give
    the same spaCy vectors) and started with another OpenMP default."""
    outs = []
    for k, threads in enumerate(("2", "3")):
        out = tmp_path / f"m{k}.npz"
        cmd = [sys.executable, str(ROOT / "scripts/train_attribution_fast_cnn.py"), "--limit", "12", "--epochs", "1"]
        cmd += ["--cache", str(tmp_path / "cache"), "--out", str(out), "--no-check"]
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        subprocess.run(cmd, check=True, env=env, capture_output=True, cwd=ROOT)
        outs.append(hashlib.sha256(out.read_bytes()).hexdigest())
        assert json.loads(out.with_suffix(".json").read_text())["recipe"]["seed"] == 13
    assert outs[0] == outs[1]


def test_the_network_learns_the_accurate_taggers_probabilities(tmp_path: Path) -> None:
    """Distillation: each training token's target is the accurate taggers' label distribution
    where they read it (a word's first wordpiece), its gold label elsewhere (spaces, "na" of
    "gonna"), the same again from the cache the first call wrote."""
    from train_attribution_fast_cnn import LABEL_ID, segments

    from reportedly.attribution.extractor import extract
    from reportedly.attribution.learned import _read_prior, bio_labels, windows
    from reportedly.attribution.transformer import load_accurate_tagger

    docs = load_split("train", limit=2)
    cache = tmp_path / "cache"
    segs = segments(docs, cache, "train", cover="cue", context=False, teacher=True)
    assert segs and all(soft is not None and soft.shape == (len(gold), len(LABELS)) for _, _, gold, soft in segs)
    assert segments(docs, cache, "train", cover="cue", context=False, teacher=True)[0][3].tolist() == segs[0][3].tolist()

    gold_doc = docs[0]
    doc = load_nlp()(gold_doc.text)
    paras = [(p.start, p.end) for p in paragraph_spans(gold_doc.text)]
    lp = load_accurate_tagger().doc_logprobs([doc], [paras], [extract(doc, paras)])[0]
    lo, hi = windows(doc, (), _read_prior(MODELS / "attribution_fast.crfsuite.gz"))[0]
    soft = segs[0][3]
    assert soft is not None
    gold = bio_labels(doc, gold_doc.attributions)
    unread = 0
    for i in range(lo, hi):
        if i in lp:
            assert np.allclose(soft[i - lo], np.exp(lp[i].float().numpy()), atol=2e-3)
        else:
            assert soft[i - lo].tolist() == np.eye(len(LABELS))[LABEL_ID[gold[i]]].tolist()
            unread += 1
    assert unread < (hi - lo) / 10
    # Soft, not the gold labels again: somewhere the taggers are unsure or disagree with the annotators.
    assert any(row.max() < 0.9 for _, _, _, s in segs if s is not None for row in s)


def test_shipped_fast_model_scores_hold_on_dev() -> None:
    """The dev figures written beside the shipped model (and quoted in its card) are what
    ``reportedly eval polnear --model fast`` measures now."""
    recorded = json.loads((MODELS / ARTEFACT).with_suffix(".json").read_text())["dev_f1"]
    result = evaluate(load_split("dev"), "reportedly", model="fast")
    for role in ("source", "cue", "content"):
        assert result["overall"][role]["exact"]["f1"] == pytest.approx(recorded[f"{role}/exact"]["f1"], abs=0.005), role


def test_fast_mode_keeps_acts_out() -> None:
    """The network alone tags "offered" as a cue (content "the president"), as PolNeAR's annotators
    sometimes do; fast's plausibility tests keep it an event, and a speech verb still stands."""
    from reportedly.attribution.extractor import extract
    from reportedly.model import Article, ArticleMeta
    from reportedly.pipeline.analyzer import Analyzer

    text = "Sessions offered his resignation to the president."
    doc = load_nlp()(text)
    tagged = ConvExtractor().extract(doc, [(0, len(text))], extract(doc, [(0, len(text))]))
    assert any(text[c.cue[0] : c.cue[1]] == "offered" for c in tagged)
    report = Analyzer("fast").analyze(Article(id="t", text=text, meta=ArticleMeta()))
    assert report.attributions == []
    said = Analyzer("fast").analyze(Article(id="u", text="Officials said the offer was refused.", meta=ArticleMeta()))
    assert [a.cue.text for a in said.attributions] == ["said"]


def test_the_shipped_network_reads_the_rules_sentences_too() -> None:
    """Fast's network tags every sentence with a reporting word (``cover="cue"``), the ones whose
    attribution the rules already found included, so its source and cue can replace theirs."""
    from reportedly.attribution.extractor import extract

    text = "Officials at the agency said on Monday that the offer was refused."
    doc = load_nlp()(text)
    paras = [(0, len(text))]
    rules = extract(doc, paras)
    assert [text[c.cue[0] : c.cue[1]] for c in rules] == ["said"]
    ext = ConvExtractor()
    assert ext.net.cover == "cue"
    tags = ext.tag(doc, paras, rules)
    assert tags[[t.text for t in doc].index("said")] == "B-CUE"
    assert "B-SRC" in tags


def test_a_network_saved_before_cover_and_context_reads_the_windows(tmp_path: Path) -> None:
    """Networks written before the thirteenth round hold no ``cover``/``context``: they were trained
    on the windows, with the neighbours' features, and load so."""
    import zipfile

    state = _random_state(2, 2, 2, 4)
    ConvNet.from_state(state, ["w=said", "p=VERB"], (1,), cover="cue", context=False).save(tmp_path / "new.npz")
    with zipfile.ZipFile(tmp_path / "new.npz") as src, zipfile.ZipFile(tmp_path / "old.npz", "w") as dst:
        for name in src.namelist():
            if name not in ("cover.npy", "context.npy"):
                dst.writestr(name, src.read(name))
    old = ConvNet.load(tmp_path / "old.npz")
    assert (old.cover, old.context) == ("windows", True)

"""The accurate tagger's network on an MPNet base: the same states as Hugging Face's MPNetModel, and
trainable from cached frozen layers. Small random MPNets stand in for all-mpnet-base-v2, whose five
packages are not a dependency."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import torch

from conftest import tiny_mpnet
from reportedly.attribution import mpnet
from reportedly.attribution.tagger_network import LABELS, TaggerNetwork, Window, base_network, pad, trained_state

REPO_ROOT = Path(__file__).resolve().parents[1]


def _reference(seed: int = 5) -> Any:
    return tiny_mpnet(layers=3, seed=seed)


def _fitter() -> Any:
    spec = importlib.util.spec_from_file_location("fit_attribution_tagger", REPO_ROOT / "scripts" / "fit_attribution_tagger.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _window(n: int, seed: int) -> Window:
    g = torch.Generator().manual_seed(seed)
    ids = [0, *torch.randint(3, 120, (n - 2,), generator=g).tolist(), 2]
    rule = torch.randint(0, len(LABELS), (n,), generator=g).tolist()
    dep = torch.randint(0, 6, (n,), generator=g).tolist()
    return Window(ids=ids, rule=rule, dep=dep, token=list(range(n)))


def test_the_mpnet_tagger_reads_its_shape_off_the_weights_and_computes_mpnet() -> None:
    reference = _reference()
    net = base_network(6, 1, reference.state_dict(), "mpnet")
    c = net.mpnet_config
    assert c is not None
    assert (c.vocab_size, c.hidden, c.layers, c.heads, c.intermediate, c.max_positions) == (120, 32, 3, 4, 64, 80)
    assert net.pad_id == 1 and net.n_layers == 3
    trained = net.trained_prefixes()
    assert "encoder.layer.1." in trained and "encoder.layer.2." in trained and "encoder.layer.0." not in trained

    long, short = _window(40, 1), _window(23, 2)
    ids, rule, dep, mask = pad([long, short], net.pad_id)
    assert int(ids[1, 23:].unique()) == 1 and int(mask[1].sum()) == 23
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        lower = net.lower(ids, mask)
        logits = net(ids, rule, dep, mask)
        # The rule and dependency embeddings start at zero: untrained, the head reads MPNet's top states.
        plain = net.classifier(want.last_hidden_state)
    real = mask.bool()
    assert torch.allclose(lower[real], want.hidden_states[1][real], atol=1e-5)
    assert torch.allclose(logits[real], plain[real], atol=1e-5)
    # Padding with the network's padding id leaves a shorter window's logits as they are alone.
    with torch.no_grad():
        alone = net(*(t[1:2, :23] for t in (ids, rule, dep)), mask[1:2, :23])
    assert torch.allclose(alone[0], logits[1, :23], atol=1e-5)
    # Trained extras do reach the logits.
    with torch.no_grad():
        net.rule_embeddings.weight.add_(0.5)
        moved = net(ids, rule, dep, mask)
    assert not torch.allclose(moved[real], logits[real], atol=1e-3)


def test_a_tagger_trains_on_an_mpnet_base_from_cached_frozen_layers(tmp_path: Path) -> None:
    fitter = _fitter()
    reference = _reference(7)
    # The base travels as a GPU run's does: fp16, only the rows the windows use, the vocabulary's size kept.
    windows = [_window(12 + 3 * k, 10 + k) for k in range(10)]
    used = sorted({i for w in windows for i in w.ids} | {1})
    fitter.save_base(reference.state_dict(), used, tmp_path / "base.safetensors")
    base = fitter.read_base(tmp_path / "base.safetensors")
    assert base["embeddings.word_embeddings.weight"].shape == (120, 32)

    def rows(ws: list[Window], first_doc: int) -> list[dict[str, torch.Tensor]]:
        g = torch.Generator().manual_seed(first_doc)
        return [
            {
                "doc": torch.tensor(first_doc + k // 2),
                "ids": torch.tensor(w.ids, dtype=torch.int16),
                "rule": torch.tensor(w.rule, dtype=torch.int8),
                "dep": torch.tensor(w.dep, dtype=torch.int8),
                "label": torch.randint(0, len(LABELS), (len(w.ids),), generator=g, dtype=torch.int8),
            }
            for k, w in enumerate(ws)
        ]

    data = {
        "n_deps": 6,
        "first_trained": 2,
        "encoder": "mpnet",
        "train": fitter.pack(rows(windows[:7], 0)),
        "dev": fitter.pack(rows(windows[7:], 100)),
    }
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        state, history, kept = fitter.fit(
            data, base, epochs=2, lr=1e-3, head_lr=1e-2, batch_size=3, lower_cached=True, log=lambda s: None
        )
        # bf16 autocast (the GPU recipe's option) trains too, and its steps are not fp32's.
        half, _, _ = fitter.fit(
            data, base, epochs=2, lr=1e-3, head_lr=1e-2, batch_size=3, lower_cached=True, bf16=True, log=lambda s: None
        )
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    assert len(history) == 2 and kept in (1, 2)
    assert any(k.startswith("encoder.layer.2.") for k in state)
    assert not any(k.startswith(("encoder.layer.0.", "encoder.layer.1.", "embeddings.")) for k in state)
    name = "encoder.layer.2.output.dense.weight"
    assert not torch.equal(state[name], trained_state(base_network(6, 2, base, "mpnet"))[name])
    assert set(half) == set(state) and not torch.equal(half[name], state[name])
    assert torch.allclose(half[name].float(), state[name].float(), atol=0.05)

    # The cached states are the frozen layers' own, to fp16 precision.
    net = base_network(6, 2, base, "mpnet")
    plain = fitter.unpack(data["dev"])
    cached = fitter.unpack(data["dev"])
    fitter.cache_lower(net, cached, "cpu", lambda s: None)
    ids, _, _, mask, _ = fitter.batch(plain, "cpu", net.pad_id)
    with torch.no_grad():
        want = fitter.upper_input(net, plain, ids, mask)
        got = fitter.upper_input(net, cached, ids, mask)
    real = mask.bool()
    assert torch.allclose(got[real], want[real], atol=1e-2) and not torch.equal(got[real], torch.zeros_like(got[real]))


def test_an_mpnet_tagger_without_its_packages_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from reportedly.attribution import transformer
    from reportedly.errors import ModelNotFoundError

    monkeypatch.setattr(mpnet, "PACKAGES", ("reportedly-no-such-package-001",))
    wanted = r"pip install 'reportedly\[accurate\]' \(or pip install reportedly-no-such-package-001\)"
    with pytest.raises(ModelNotFoundError, match=wanted):
        transformer.load_base_network(5, 8, "mpnet")
    # The shipped accurate tagger needs MPNet too, and says so (uncached: another test may have loaded it).
    with pytest.raises(ModelNotFoundError, match=wanted):
        transformer.load_accurate_tagger.__wrapped__()
    with pytest.raises(ValueError, match="encoder must be one of"):
        TaggerNetwork(5, 1, "roberta")


def test_window_markers_are_the_tokenizers_own_template_not_a_vocabulary_lookup() -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from tokenizers.processors import TemplateProcessing

    from reportedly.attribution.transformer import markers

    # As in all-mpnet-base-v2's tokenizer: BERT's [CLS]/[SEP] are in the vocabulary, <s>/</s> are used.
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "[CLS]": 4, "[SEP]": 5, "a": 6}
    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = Whitespace()  # type: ignore[assignment]
    tok.post_processor = TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])  # type: ignore[assignment]
    assert markers(tok) == (0, 2)
    tok.post_processor = TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 4), ("[SEP]", 5)])  # type: ignore[assignment]
    assert markers(tok) == (4, 5)

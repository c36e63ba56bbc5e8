"""Accurate voice (fine-tuned all-MiniLM-L6-v2): the encoder, the shipped artefact, retraining, and staying opt-in."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import FIXTURES
from reportedly.evaluation.subjectivity import default_data_dir, evaluate
from reportedly.voice.transformer import ARTEFACT, META, base_dir, encode, load_accurate_model, load_base, load_tokenizer, pad

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS = REPO_ROOT / "src" / "reportedly" / "models"
MINI = FIXTURES / "subjectivity_mini"
TARGET = 0.78  # issue #6: macro-F1 on dev


def _meta() -> dict[str, object]:
    meta: dict[str, object] = json.loads((MODELS / META).read_text(encoding="utf-8"))
    return meta


def _shipped_score() -> float:
    scores = _meta()["dev_macro_f1"]
    assert isinstance(scores, dict)
    return float(scores["accurate"])


def test_encoder_matches_sentence_transformers() -> None:
    """Our plain-torch BERT gives all-MiniLM-L6-v2's sentence embeddings (mean pooled, normalised)."""
    from sentence_transformers import SentenceTransformer

    texts = ["The council voted 7-2 on Tuesday.", "This is an absurd and shameful waste of money, and everyone knows it."]
    reference = SentenceTransformer(str(base_dir()), device="cpu").encode(texts, convert_to_tensor=True)
    model = load_base()
    ids, mask = pad(encode(load_tokenizer(), texts))
    with torch.inference_mode():
        states = model.hidden(ids, mask)
    m = mask.unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((states * m).sum(1) / m.sum(1), dim=-1)
    assert torch.allclose(ours, reference.cpu(), atol=1e-5)


def test_shipped_artefact_is_small_and_described() -> None:
    meta = _meta()
    size = (MODELS / ARTEFACT).stat().st_size
    assert size < 5_000_000
    artefact = meta["artefact"]
    assert isinstance(artefact, dict) and artefact["bytes"] == size
    card = (MODELS / "voice_accurate.MODEL_CARD.md").read_text(encoding="utf-8")
    assert f"{_shipped_score():.3f}" in card


def test_shipped_model_scores_its_recorded_figure_on_dev() -> None:
    """Through the eval code (what ``eval subjectivity --voice accurate`` prints), on the shared dev split."""
    assert default_data_dir() is not None, "needs ../shared/data/subjectivity (the shared train and dev splits)"
    result = evaluate("dev", systems=("majority", "learned", "accurate"), voice_model="accurate")
    scores = {r["system"]: r["macro_f1"] for r in result["results"]}
    assert scores["accurate"] >= _shipped_score() - 1e-6
    assert scores["accurate"] > scores["learned"] + 0.05


def test_accurate_voice_on_the_mini_fixture() -> None:
    result = evaluate("dev", MINI, voice_model="accurate")
    assert [r["system"] for r in result["results"]] == ["majority", "rules", "learned", "accurate"]
    model = load_accurate_model()
    assert model is load_accurate_model()
    probs = model.probabilities(["The council voted 7-2 on Tuesday to approve the budget.", "What a shameful, idiotic waste!"])
    assert probs[0] < 0.5 < probs[1]


def test_default_analysis_does_not_load_the_accurate_model() -> None:
    """The fine-tuned model is opt-in: analysing and the fast eval never import it (spaCy's thinc may import torch itself)."""
    code = (
        "import sys, reportedly; from reportedly.evaluation import subjectivity; "
        "reportedly.analyze('The council voted to approve the budget. This is an absurd waste, the mayor said.'); "
        "print(sorted(m for m in sys.modules if m.startswith(('reportedly.voice.transformer', 'safetensors', 'tokenizers'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_unknown_voice_model_is_refused() -> None:
    from reportedly.evaluation.subjectivity import SubjectivityDataError

    with pytest.raises(SubjectivityDataError, match="fast or accurate"):
        evaluate("dev", MINI, voice_model="huge")


def test_retraining_reproduces_the_shipped_dev_score(tmp_path: Path) -> None:
    """Full retraining on train_en with the fixed seed (about a minute on one thread): same dev macro-F1."""
    assert default_data_dir() is not None, "needs ../shared/data/subjectivity (the shared train and dev splits)"
    spec = importlib.util.spec_from_file_location("train_voice_transformer", REPO_ROOT / "scripts" / "train_voice_transformer.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        assert script.main(["--out-dir", str(tmp_path)]) == 0
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    retrained = json.loads((tmp_path / META).read_text(encoding="utf-8"))
    assert abs(retrained["dev_macro_f1"]["accurate"] - _shipped_score()) <= 0.005
    assert _shipped_score() >= retrained["dev_macro_f1"]["learned"] + 0.05

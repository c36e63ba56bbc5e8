"""Subjectivity (CheckThat!): macro-F1 by hand, the reader, the eval command, and retraining the voice model."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES
from reportedly.evaluation.subjectivity import SubjectivityDataError, default_data_dir, f1_scores, load_split, majority_label
from reportedly.voice.model import ARTEFACT, load_voice_model, read_model

REPO_ROOT = Path(__file__).resolve().parent.parent
MINI = FIXTURES / "subjectivity_mini"


def test_macro_f1_by_hand() -> None:
    f = f1_scores(["SUBJ", "SUBJ", "OBJ", "OBJ"], ["SUBJ", "OBJ", "OBJ", "SUBJ"])
    assert (f["SUBJ"], f["OBJ"], f["macro"]) == (0.5, 0.5, 0.5)
    # all OBJ against one SUBJ in four: OBJ 2*3/(2*3+1) = 6/7, SUBJ never predicted = 0
    f = f1_scores(["OBJ"] * 4, ["SUBJ", "OBJ", "OBJ", "OBJ"])
    assert f["OBJ"] == pytest.approx(6 / 7) and f["SUBJ"] == 0.0 and f["macro"] == pytest.approx(3 / 7)


def test_reader_majority_and_held_back_test_split() -> None:
    dev = load_split("dev", MINI)
    assert [i.label for i in dev] == ["OBJ", "SUBJ", "OBJ", "SUBJ"]
    assert dev[2].text == '"It is a disaster," the senator said.'  # quotation marks are text, not TSV quoting
    assert majority_label(load_split("train", MINI)) == "OBJ"
    with pytest.raises(SubjectivityDataError, match="held back"):
        load_split("test", MINI)


def test_eval_command_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "subj.json"
    cmd = [sys.executable, "-m", "reportedly", "eval", "subjectivity", "--data", str(MINI)]
    proc = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "macro-F1" in proc.stdout and "majority" in proc.stdout
    results = {r["system"]: r for r in json.loads(out.read_text())["results"]}
    # all OBJ on gold OBJ, SUBJ, OBJ, SUBJ: F1 OBJ 4/6, F1 SUBJ 0
    assert results["majority"]["macro_f1"] == pytest.approx(1 / 3)
    # the reported evaluation ("It is a disaster," the senator said.) is OBJ; the writer's own rant is SUBJ
    assert results["learned"]["macro_f1"] == 1.0
    refused = subprocess.run([*cmd, "--split", "test"], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "held back" in refused.stderr and "Traceback" not in refused.stderr


def test_voice_model_is_loaded_once() -> None:
    assert load_voice_model() is load_voice_model()
    assert 0.0 < load_voice_model().threshold < 1.0


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_artefact(tmp_path: Path) -> None:
    """Full retraining on train_en (about 10 s): same weights, same dev macro-F1 as the shipped model."""
    assert default_data_dir() is not None, "needs ../shared/data/subjectivity (the shared train and dev splits)"
    spec = importlib.util.spec_from_file_location("train_voice", REPO_ROOT / "scripts" / "train_voice.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / ARTEFACT
    assert script.main(["--out", str(out)]) == 0
    shipped = load_voice_model()
    retrained = read_model(out.read_text(encoding="utf-8"))
    assert retrained.meta["dev_macro_f1"] == shipped.meta["dev_macro_f1"]
    assert retrained.weights == shipped.weights and retrained.intercept == shipped.intercept
    assert shipped.meta["dev_macro_f1"]["learned"] > shipped.meta["dev_macro_f1"]["majority"] + 0.2

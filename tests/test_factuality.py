"""Event factuality: the scorer by hand, the reader, the learned model on claims, the eval command, retraining."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import FIXTURES, analyze
from reportedly.certainty.model import ARTEFACT, FactualityModel, _interpolate, load_factuality_model, read_model
from reportedly.evaluation.factuality import (
    FactualityDataError,
    default_data_dir,
    load_split,
    mean_absolute_error,
    pearson,
    read_jsonl,
)
from reportedly.model import SCHEMA_VERSION

REPO_ROOT = Path(__file__).resolve().parent.parent
MINI = FIXTURES / "factuality_mini"


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pearson_by_hand() -> None:
    assert pearson([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # deviations (-1.5, -.5, .5, 1.5) and (-.5, -1.5, 1.5, .5): 3.0 / sqrt(5 * 5)
    assert pearson([1, 2, 3, 4], [2, 1, 4, 3]) == pytest.approx(0.6)
    assert pearson([3, 3, 3], [1, 2, 3]) is None, "a constant prediction has no correlation"
    assert pearson([1.0], [2.0]) is None


def test_mae_by_hand() -> None:
    assert mean_absolute_error([3, 3, 3], [3, 0, -3]) == pytest.approx(3.0)
    assert mean_absolute_error([2.5, -1], [3, -3]) == pytest.approx(1.25)
    with pytest.raises(ValueError):
        mean_absolute_error([], [])


def test_reader_and_held_back_test_split() -> None:
    sents = read_jsonl(MINI / "UW" / "dev.jsonl")
    assert [s.words[t.token] for s in sents for t in s.targets] == ["said", "sold", "approve", "raise"]
    assert [t.label for s in sents for t in s.targets] == [3.0, 3.0, -3.0, 0.0]
    assert len(load_split("meantime", "dev", MINI)) == 2
    with pytest.raises(FactualityDataError, match="held back"):
        load_split("uw", "test", MINI)
    with pytest.raises(FactualityDataError, match="uw or meantime"):
        load_split("factbank", "dev", MINI)


def test_isotonic_interpolation_matches_sklearn_convention() -> None:
    xs, ys = (-1.0, 0.0, 2.0), (-3.0, 1.0, 3.0)
    assert _interpolate(-5.0, xs, ys) == -3.0  # flat outside the thresholds
    assert _interpolate(-0.5, xs, ys) == pytest.approx(-1.0)
    assert _interpolate(1.0, xs, ys) == pytest.approx(2.0)
    assert _interpolate(9.0, xs, ys) == 3.0


def test_claims_carry_a_learned_factuality() -> None:
    def fact(text: str) -> float:
        (claim,) = [c for c in analyze(text).claims if c.attribution_id is None]
        assert claim.factuality is not None
        return claim.factuality

    plain = fact("Sessions offered his resignation to the president.")
    possible = fact("Sessions may resign before the end of the month.")
    negated = fact("Sessions did not offer his resignation to the president.")
    nobody = fact("No one offered a resignation to the president.")
    assert plain > 2.5
    assert negated < nobody < possible < plain
    assert SCHEMA_VERSION == "1.1.0"


def test_sample_claims_keep_their_classes_and_gain_a_score(sample_report) -> None:  # type: ignore[no-untyped-def]
    assert all(c.factuality is not None and -3.0 <= c.factuality <= 3.0 for c in sample_report.claims)


def test_model_is_loaded_once() -> None:
    assert load_factuality_model() is load_factuality_model()
    model = load_factuality_model()
    assert model.domains == ("uw", "mt")
    assert set(model.calibration) == {"uw", "mt"}


def test_eval_command_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "fact.json"
    cmd = [sys.executable, "-m", "reportedly", "eval", "factuality", "--data", str(MINI)]
    proc = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "UW dev" in proc.stdout and "MEANTIME dev" in proc.stdout and "always +3" in proc.stdout
    results = {r["dataset"]: {s["system"]: s for s in r["results"]} for r in json.loads(out.read_text())["results"]}
    uw = results["UW"]
    # gold 3, 3, -3, 0: always +3 is off by 0, 0, 6, 3
    assert uw["always +3"]["mae"] == pytest.approx(2.25) and uw["always +3"]["pearson_r"] is None
    # rules: certain +3, certain +3, negated -3, "may" possible +1
    assert uw["rules"]["mae"] == pytest.approx(0.25)
    assert uw["learned"]["pearson_r"] > 0.9
    assert results["MEANTIME"]["always +3"]["mae"] == pytest.approx(1.0)  # gold 3, 3, 0
    one = subprocess.run([*cmd, "--dataset", "meantime"], capture_output=True, text=True, timeout=300)
    assert one.returncode == 0 and "UW dev" not in one.stdout
    refused = subprocess.run([*cmd, "--split", "test"], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "held back" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_artefact(tmp_path: Path) -> None:
    """Full retraining from the shared train splits (about 40 s on 2 cores): same weights, same dev scores."""
    assert default_data_dir() is not None, "needs ../shared/data/factuality (the shared train and dev splits)"
    script = load_script("train_factuality")
    out = tmp_path / ARTEFACT
    assert script.main(["--out", str(out)]) == 0
    shipped = load_factuality_model()
    retrained: FactualityModel = read_model(out.read_bytes())
    assert retrained.meta["dev"] == shipped.meta["dev"]
    assert retrained.weights == shipped.weights and retrained.calibration == shipped.calibration
    assert out.read_bytes() == (REPO_ROOT / "src" / "reportedly" / "models" / ARTEFACT).read_bytes()
    # and those stored scores are what the eval command measures
    assert shipped.meta["dev"]["uw"]["pearson_r"] >= 0.75
    assert shipped.meta["dev"]["meantime"]["pearson_r"] >= 0.60

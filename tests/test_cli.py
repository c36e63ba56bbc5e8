"""The command line, run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema

import reportedly
from reportedly.interfaces.cli import sample_path
from reportedly.model import SCHEMA_VERSION, Report

CLI = [sys.executable, "-m", "reportedly"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"}, timeout=300)


def test_sample_text_view_shows_the_acceptance_points() -> None:
    proc = run("analyze", str(sample_path()), "--outlet", "Slate")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for needle in (
        "ABC News",
        "The Washington Post",
        "anonymous, count 2: people close to the White House",
        "—made clear→",
        "—believes→",
        "probable via apparently",
        "Reportedly",
        "unclear",
        "Probably",
        "To add a dollop of crazy",
        "Soon there will be no one left.",
    ):
        assert needle in out, needle
    # the anonymous pair sits under the Washington Post in the relay tree
    wapo = out.index("The Washington Post  [outlet]")
    assert out.index("people close to the White House  [anonymous", wapo) > wapo


def test_json_output_validates_against_the_schema() -> None:
    schema = json.loads(run("schema").stdout)
    assert schema["version"] == SCHEMA_VERSION
    proc = run("analyze", str(sample_path()), "-f", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, schema)
    report = Report.model_validate(doc)
    assert report.schema_version == SCHEMA_VERSION
    assert report == reportedly.analyze(sample_path().read_text(encoding="utf-8"))


def test_jsonl_one_line_per_article(tmp_path) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("Officials said the bridge would reopen next week.", encoding="utf-8")
    b.write_text("The mayor said the budget was balanced, according to the Chicago Tribune.", encoding="utf-8")
    proc = run("analyze", str(a), str(b), "-f", "jsonl")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    second = Report.model_validate_json(lines[1])
    assert any(s.name == "Chicago Tribune" and s.kind.value == "outlet" for s in second.sources)


def test_analyze_many_matches_analyze() -> None:
    texts = ["Officials said the bridge would reopen next week.", "Trump refused the offer, the people said."]
    batched = list(reportedly.analyze_many(texts))
    assert batched == [reportedly.analyze(t) for t in texts]


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"reportedly {reportedly.__version__}"
    assert "analyze" in run("--help").stdout


def test_unknown_pipeline_is_a_clear_error() -> None:
    proc = run("analyze", str(sample_path()), "--pipeline", "xx_no_such_model")
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert "no English spaCy pipeline found" in proc.stderr


def test_bad_accurate_precision_setting_is_a_clear_error() -> None:
    env = {**os.environ, "COLUMNS": "120", "REPORTEDLY_ACCURATE_PRECISION": "fp8"}
    cmd = [*CLI, "analyze", str(sample_path()), "--model", "accurate"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "REPORTEDLY_ACCURATE_PRECISION must be one of auto, float32, bfloat16, not 'fp8'" in proc.stderr

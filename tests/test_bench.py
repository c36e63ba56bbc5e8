"""Smoke test for bench/throughput.py: it runs and reports sane figures (no timing thresholds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_throughput_bench_runs(tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    cmd = [sys.executable, "bench/throughput.py", "--texts", "src/reportedly/examples", "--limit", "1", "--repeat", "1"]
    proc = subprocess.run([*cmd, "--json", str(out)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["n_texts"] == 1
    assert result["words"] > 0
    assert result["bare"]["words_per_s"] > 0
    assert result["full"]["words_per_s"] > 0
    assert result["ratio"] > 0
    assert result["ratio_paired"] > 0
    assert result["batches"] == 1
    assert result["peak_rss_mib"] > 0


def test_throughput_bench_pairs_batches(tmp_path: Path) -> None:
    """Two texts in batches of one: two batches a round, each timed for both pipelines; a whole
    pass is the sum of its batches, and the paired figure sums each batch's best over the rounds."""
    texts = tmp_path / "texts"
    texts.mkdir()
    sample = (REPO_ROOT / "src/reportedly/examples/slatest-sessions-offered-to-resign.txt").read_text(encoding="utf-8")
    paragraphs = sample.split("\n\n")
    (texts / "a.txt").write_text("\n\n".join(paragraphs[: len(paragraphs) // 2]), encoding="utf-8")
    (texts / "b.txt").write_text("\n\n".join(paragraphs[len(paragraphs) // 2 :]), encoding="utf-8")
    out = tmp_path / "throughput.json"
    cmd = [sys.executable, "bench/throughput.py", "--texts", str(texts), "--repeat", "2", "--batch-size", "1"]
    proc = subprocess.run([*cmd, "--json", str(out)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["n_texts"] == 2
    assert result["batches"] == 2
    for side in ("bare", "full"):
        times = result[side]["times_s"]
        assert len(times) == 2
        assert result[side]["best_s"] == min(times)
        # Each batch's best over the rounds: no more than any one round's batches.
        assert 0 < result[side]["paired_s"] <= min(times)
    assert result["ratio_paired"] == result["bare"]["paired_s"] / result["full"]["paired_s"]
    assert "paired by batch" in proc.stdout

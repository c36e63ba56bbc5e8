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
    assert result["peak_rss_mib"] > 0

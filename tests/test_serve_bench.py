"""Smoke test for bench/serve_load.py: it starts a server, loads it and stops by itself (no timing thresholds)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_serve_load_bench_is_bounded_by_count_and_reports() -> None:
    cmd = [sys.executable, "bench/serve_load.py", "--clients", "3", "--duration", "120", "--max-requests", "6"]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^requests: 6 in [\d.]+ s = [\d.]+ requests/s", proc.stdout, re.M), proc.stdout
    assert re.search(r"^latency \(ok\): p50 \d+ ms, p90 \d+ ms, p99 \d+ ms", proc.stdout, re.M)
    assert "errors: 0" in proc.stdout
    assert re.search(r"^server RSS: \d+ MiB before, \d+ MiB after, peak \d+ MiB .*healthz after the run: ok", proc.stdout, re.M)

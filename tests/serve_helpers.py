"""A real ``reportedly serve`` process on 127.0.0.1 for the server and browser tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import FIXTURES
from reportedly.corpus.ingest import ingest
from reportedly.corpus.stories import ENV_BACKEND
from reportedly.interfaces.cli import sample_path
from test_stories import ARTICLES as STORY_ARTICLES

# Servers place articles in stories with hashed word vectors: no model to load in the server
# process, and test_stories checks that both kinds of vector find the same stories.
HASHED_STORIES = {ENV_BACKEND: "hashed"}

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m reportedly serve`` as a subprocess; stopped by its own pid."""

    def __init__(self, log: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_fh = log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reportedly", "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not come up:\n{self.output()}")

    def output(self) -> str:
        self._log_fh.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_fh.close()


def build_corpus(folder: Path) -> Path:
    """The fixture corpus plus three dated articles about Jeff Sessions (the bundled sample among them)."""
    extra = folder / "extra"
    extra.mkdir(parents=True, exist_ok=True)
    docs = [
        {
            "text": sample_path().read_text(encoding="utf-8"),
            "outlet": "Slate",
            "date": "2017-06-06",
            "title": "Jeff Sessions Reportedly Offered to Resign Amidst Growing Discord with Trump",
        },
        {
            "text": "Attorney General Jeff Sessions said on Monday that he would stay. "
            "Critics said Jeff Sessions had misled the Senate.",
            "url": "https://www.washingtonpost.com/politics/sessions-stays",
            "date": "2017-06-07",
            "title": "Sessions says he will stay",
        },
        {
            "text": "The inquiry into Sessions was over, according to the Washington Post. "
            "Two officials said Sessions might resign before the summer.",
            "outlet": "Slate",
            "date": "2017-06-08",
            "title": "Inquiry over",
        },
    ]
    (extra / "sessions.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    db = folder / "corpus.sqlite"
    stats = ingest([FIXTURES / "corpus", extra], db, workers=1)
    assert (stats.stored, stats.failed) == (7, 4)
    return db


def build_story_corpus(folder: Path) -> Path:
    """Four articles (test_stories.ARTICLES): one story told by three outlets, the second citing the
    first, and an unrelated one. Ingested only: the server places them in stories when asked."""
    src = folder / "story"
    src.mkdir(parents=True, exist_ok=True)
    (src / "news.jsonl").write_text("\n".join(json.dumps(a) for a in STORY_ARTICLES) + "\n", encoding="utf-8")
    db = folder / "stories.sqlite"
    stats = ingest([src], db, workers=1)
    assert (stats.stored, stats.failed) == (4, 0)
    return db

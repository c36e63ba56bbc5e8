"""Bad and unusual input: a clear one-line error and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import reportedly
from conftest import FIXTURES
from reportedly.errors import (
    BinaryInputError,
    EmptyInputError,
    EncodingError,
    InputTooLargeError,
    NoArticleBodyError,
    NotEnglishError,
)
from reportedly.ingest import read_path

CLI = [sys.executable, "-m", "reportedly"]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(
        [*CLI, *args],
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def assert_clean_error(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert needle in proc.stderr
    assert proc.stderr.startswith("error: ")


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    files = {
        "empty": b"",
        "blank": b"  \n\n \t\n",
        "binary": bytes(range(256)) * 64,
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2048),
        "latin1": "Le président a dit que la réforme était nécessaire, said the café owner in Paris on Monday.".encode("cp1252"),
    }
    paths = {}
    for name, data in files.items():
        p = d / f"{name}.txt"
        p.write_bytes(data)
        paths[name] = p
    big = d / "huge.txt"
    with big.open("wb") as fh:
        line = b"Officials said the bridge would reopen next week, according to the city. " * 100 + b"\n"
        while fh.tell() < 20 * 1024 * 1024:
            fh.write(line)
    paths["huge"] = big
    return paths


def test_empty_file(bad_files: dict[str, Path]) -> None:
    assert_clean_error(run("analyze", str(bad_files["empty"])), "empty input")
    assert_clean_error(run("analyze", str(bad_files["blank"])), "empty input")


def test_binary_file(bad_files: dict[str, Path]) -> None:
    assert_clean_error(run("analyze", str(bad_files["binary"])), "binary file")
    assert_clean_error(run("analyze", str(bad_files["png"])), "binary file")


def test_twenty_megabyte_file(bad_files: dict[str, Path]) -> None:
    proc = run("analyze", str(bad_files["huge"]))
    assert_clean_error(proc, "over the 5,000,000-byte limit")
    assert "--max-bytes" in proc.stderr


def test_invalid_utf8_names_the_byte_and_the_fix(bad_files: dict[str, Path]) -> None:
    proc = run("analyze", str(bad_files["latin1"]))
    assert_clean_error(proc, "not valid UTF-8")
    assert "--encoding" in proc.stderr
    ok = run("analyze", str(bad_files["latin1"]), "--encoding", "cp1252", "-f", "json")
    assert ok.returncode == 0, ok.stderr
    assert "président" in ok.stdout


def test_unknown_encoding(bad_files: dict[str, Path]) -> None:
    assert_clean_error(run("analyze", str(bad_files["latin1"]), "--encoding", "klingon-8"), "unknown encoding")


def test_html_without_article_body() -> None:
    assert_clean_error(run("analyze", str(FIXTURES / "no_body.html")), "no article text found")


def test_non_english_text() -> None:
    assert_clean_error(run("analyze", str(FIXTURES / "french.txt")), "does not look like English")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert_clean_error(run("analyze", str(tmp_path / "nope.txt")), "no such file")
    assert_clean_error(run("analyze", str(tmp_path)), "is a folder")


def test_one_bad_file_does_not_stop_the_others(bad_files: dict[str, Path]) -> None:
    good = FIXTURES / "article.html"
    proc = run("analyze", str(bad_files["empty"]), str(good), "-f", "jsonl")
    assert proc.returncode == 2
    assert "empty input" in proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1  # the good article was still analysed


def test_stdin() -> None:
    proc = run("analyze", "-", "-f", "json", stdin=b"Officials said the bridge would reopen next week.")
    assert proc.returncode == 0, proc.stderr
    assert '"cue"' in proc.stdout
    assert_clean_error(run("analyze", "-", stdin=b""), "stdin: empty input")


def test_python_api_raises_typed_errors(bad_files: dict[str, Path]) -> None:
    with pytest.raises(EmptyInputError):
        reportedly.analyze("   ")
    with pytest.raises(NotEnglishError):
        reportedly.analyze((FIXTURES / "french.txt").read_text(encoding="utf-8"))
    with pytest.raises(NoArticleBodyError):
        reportedly.analyze((FIXTURES / "no_body.html").read_text(encoding="utf-8"))
    with pytest.raises(BinaryInputError):
        read_path(bad_files["binary"])
    with pytest.raises(EncodingError):
        read_path(bad_files["latin1"])
    with pytest.raises(InputTooLargeError):
        read_path(bad_files["huge"])


def test_html_article_with_metadata() -> None:
    article = read_path(FIXTURES / "article.html")
    meta = article.meta
    assert meta.source_format == "html"
    assert meta.title == "Sessions offered to resign, officials say"
    assert meta.author == "Dana Whitfield"
    assert meta.site_name == "The Daily Ledger" and meta.outlet == "The Daily Ledger"
    assert meta.date == "2017-06-06"
    assert "dailyledger.example" in (meta.url or "")
    assert "Most read" not in article.text and "Copyright" not in article.text
    report = reportedly.analyze(article)
    told = next(a for a in report.attributions if a.cue.text == "told")
    assert [p.text for p in told.content] == ["“I have faith in the attorney general,”", "“and I want him to stay.”"]
    assert report.chain(told) == ["The Daily Ledger", "Trump"]


def test_outlet_from_url_domain() -> None:
    r = reportedly.analyze("Officials said the bridge would reopen next week.", url="https://www.example-news.com/a/1")
    assert r.article.meta.outlet == "example-news.com"


def test_short_text_is_not_rejected_as_foreign() -> None:
    assert reportedly.analyze("Trump refused the offer.").claims

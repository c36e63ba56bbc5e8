from __future__ import annotations

from pathlib import Path

import pytest

import reportedly
from reportedly.interfaces.cli import sample_path
from reportedly.model import Report
from reportedly.pipeline.analyzer import Analyzer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return reportedly.get_analyzer()


@pytest.fixture(scope="session")
def sample_text() -> str:
    return sample_path().read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def sample_report(sample_text: str) -> Report:
    return reportedly.analyze(sample_text, outlet="Slate")


def analyze(text: str) -> Report:
    return reportedly.analyze(text)

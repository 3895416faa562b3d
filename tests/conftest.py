"""Shared fixtures. Unit tests use the deterministic FakeEncoder and tmp paths; tests marked
``integration`` use the real bundled model and the real corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# ONNX exports come from the machine's shared cache (qa.onnx_encoder.default_cache_dir), which
# `make test` fills once before the tests run; QA_MODEL_CACHE, when set, still wins.

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = ROOT / "tests" / "data"
SQUAD = ROOT.parent / "shared" / "data" / "squad-v2-dev-5-articles.json"


@pytest.fixture
def fake_encoder():
    """A fresh deterministic encoder (counts how many texts it embedded)."""
    from qa.embedding import FakeEncoder

    return FakeEncoder()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the real corpus (five articles + metadata.json)."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


@pytest.fixture
def fake_index(corpus_copy: Path, tmp_path: Path, fake_encoder):
    """The real corpus indexed with the fake encoder."""
    from qa.index import build_index

    return build_index(corpus_copy, tmp_path / "index", encoder=fake_encoder)


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory):
    """The real corpus indexed with the real bundled model (built once per session)."""
    from qa.index import build_index

    tmp = tmp_path_factory.mktemp("real")
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS, corpus)
    return build_index(corpus, tmp / "index")

"""Sentence embeddings on ONNX Runtime, exported from the same local weights as the torch backend.

The first use exports the transformer with ``torch.onnx.export`` (the TorchScript exporter:
the dynamo exporter needs ``onnxscript``, which the stack does not carry) and, for the int8
variant, quantizes it with ``onnxruntime.quantization.quantize_dynamic``. The files are cached
under ``<cache_dir>/<model>-<hash of the model files>/``, so a changed model never reuses an old
export. Every later load needs only ``tokenizers``, ``onnxruntime`` and numpy: torch is never
imported on that path, which keeps start-up fast and memory small.

Pooling (mean over the attention mask, or CLS) and L2 normalisation are done in numpy, matching
sentence-transformers' ``Pooling`` + ``Normalize`` modules.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError
from qa.fileio import file_sha256, temp_beside, write_bytes_atomic
from qa.model_files import offline_env, resolve_model_path

log = logging.getLogger("qa")

# Bump when the export or quantization recipe changes: it is part of the cache key, so old
# exports made by a different recipe are never picked up.
EXPORT_RECIPE = "ts-opset17-v1"
OPSET = 17
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
META_FILE = "export.json"

# Measured on 173 SQuAD paragraphs + 300 questions (cosine to torch fp32, mean / min):
#   plain per-tensor int8 0.962 / 0.898; per-channel 0.993 / 0.984;
#   per-channel + reduce_range 0.993 / 0.987 and the fastest on this AVX2 (non-VNNI) CPU,
#   where 7-bit weights avoid the u8*s8 saturation of the non-VNNI kernels.
INT8_OPTIONS: dict[str, Any] = {"per_channel": True, "reduce_range": True}

# ST modules we reproduce in numpy; anything else (Dense, LayerNorm, ...) is refused rather
# than silently producing different vectors from the torch backend.
_SUPPORTED_MODULES = ("Transformer", "Pooling", "Normalize")
_HASHED_SUFFIXES = (".json", ".txt", ".safetensors", ".bin", ".model")

_HASH_MEMO: dict[tuple[str, int, int], str] = {}
_CHECKED: dict[tuple[str, int, int], bool] = {}  # export files already verified in this process
_HASH_LOCK = threading.Lock()


CACHE_APP = "qa-vn-uk"  # the platformdirs application name (the PyPI project name)
SUM_SUFFIX = ".sha256"


def default_cache_dir() -> Path:
    """Where exports are cached: ``$QA_MODEL_CACHE``, else the user cache folder.

    One export per machine and model (``~/.cache/qa-vn-uk/onnx`` on Linux), shared by every
    index: an export next to each index made every new folder, and every ``qa eval`` of a
    SQuAD file, pay the export again (3.4 s of a 5.8 s build).
    """
    env = os.environ.get("QA_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir(CACHE_APP)) / "onnx"


def write_checked(path: Path, tmp: str) -> None:
    """Move a finished temp file into place, then its sidecar checksum (both atomically)."""
    digest = file_sha256(tmp)
    os.replace(tmp, path)
    write_bytes_atomic(path.with_name(path.name + SUM_SUFFIX), f"{digest}\n".encode())


def is_intact(path: Path) -> bool:
    """Whether ``path`` exists and matches its sidecar checksum (a missing sidecar fails)."""
    side = path.with_name(path.name + SUM_SUFFIX)
    try:
        want = side.read_text(encoding="ascii").strip()
        st = path.stat()
    except (OSError, UnicodeDecodeError):
        return False
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _HASH_LOCK:
        ok = _CHECKED.get(key)
    if ok is None:
        ok = file_sha256(path) == want
        with _HASH_LOCK:
            _CHECKED[key] = ok
    return ok


@contextmanager
def _export_lock(folder: Path) -> Iterator[None]:
    """One export at a time per model folder across processes; the others wait, then reuse."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield


def _local_folder(location: str) -> Path:
    """Turn a resolved model location into a folder on disk, never touching the network."""
    path = Path(location).expanduser()
    if path.is_dir():
        return path.resolve()
    from huggingface_hub import snapshot_download

    candidates = [location] if "/" in location else [location, f"sentence-transformers/{location}"]
    for repo_id in candidates:
        try:
            return Path(snapshot_download(repo_id, local_files_only=True))
        except Exception:  # noqa: BLE001 - any miss means "not cached"; we report below
            continue
    raise QAError(
        f"Model {location!r} is neither a folder nor in the local Hugging Face cache, and "
        "nothing can be downloaded. Fix: pass a model folder, or use all-MiniLM-L6-v2."
    )


def _read_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _module_layout(folder: Path) -> tuple[Path, Path | None]:
    """Return (transformer folder, pooling config or None) after checking the module list."""
    modules_file = folder / "modules.json"
    if not modules_file.exists():
        return folder, None  # a plain HF model: sentence-transformers would mean-pool it
    transformer_dir, pooling_cfg = folder, None
    for module in json.loads(modules_file.read_text(encoding="utf-8")):
        kind = module.get("type", "").rsplit(".", 1)[-1]
        if kind not in _SUPPORTED_MODULES:
            raise QAError(
                f"Model {folder} has a {kind!r} module, which the ONNX backend does not "
                "reproduce. Fix: use --backend torch for this model."
            )
        if kind == "Transformer":
            transformer_dir = folder / module.get("path", "")
        elif kind == "Pooling":
            pooling_cfg = folder / module.get("path", "") / "config.json"
    return transformer_dir, pooling_cfg


def _files_hash(folder: Path, transformer_dir: Path, pooling_cfg: Path | None) -> str:
    """A content hash of the files that determine the vectors (weights, configs, tokenizer)."""
    files: set[Path] = set()
    for base in {folder, transformer_dir}:
        for p in base.iterdir():
            if p.is_file() and p.suffix in _HASHED_SUFFIXES and not p.name.startswith("README"):
                files.add(p.resolve())
    if pooling_cfg is not None and pooling_cfg.exists():
        files.add(pooling_cfg.resolve())
    root = folder.resolve()
    h = hashlib.sha256(EXPORT_RECIPE.encode())
    for p in sorted(files):
        st = p.stat()
        memo_key = (str(p), st.st_size, st.st_mtime_ns)
        with _HASH_LOCK:
            digest = _HASH_MEMO.get(memo_key)
        if digest is None:
            digest = file_sha256(p)
            with _HASH_LOCK:
                _HASH_MEMO[memo_key] = digest
        # The name matters too: swapping two files' contents must change the key.
        name = p.relative_to(root) if p.is_relative_to(root) else Path(p.name)
        h.update(f"{name.as_posix()}\0{digest}\0".encode())
    return h.hexdigest()[:16]


def export_onnx(transformer_dir: Path, out_path: Path) -> None:
    """Export the transformer to ``out_path`` (fp32), checked against torch, written atomically.

    Inputs ``input_ids``, ``attention_mask`` (and ``token_type_ids`` when the model takes
    them), with dynamic batch and sequence axes; output ``last_hidden_state``.
    """
    offline_env()
    import inspect

    import torch
    from transformers import AutoModel

    # Eager attention traces to plain MatMul/Softmax ops that ORT fuses well; the SDPA path
    # carries data-dependent branches the tracer can freeze.
    model = AutoModel.from_pretrained(str(transformer_dir), attn_implementation="eager")
    model.eval()
    params = inspect.signature(model.forward).parameters
    input_names = ["input_ids", "attention_mask"]
    if "token_type_ids" in params and getattr(model.config, "type_vocab_size", 0):
        input_names.append("token_type_ids")

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(input_names, args))).last_hidden_state

    # A padded row in the dummy batch keeps the mask path in the graph instead of folding it.
    ids = torch.tensor([[101, 7592, 2088, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0, 0]])
    ids = ids.clamp(max=model.config.vocab_size - 1)
    mask = (torch.arange(ids.shape[1])[None, :] < torch.tensor([[7], [3]])).long()
    dummy = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    args = tuple(dummy[n] for n in input_names)
    axes = {n: {0: "batch", 1: "sequence"} for n in input_names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}

    tmp = temp_beside(out_path)
    try:
        with torch.no_grad():
            expected = _Wrapper(model)(*args).numpy()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # deprecation + tracer warnings, all expected
                torch.onnx.export(
                    _Wrapper(model),
                    args,
                    tmp,
                    input_names=input_names,
                    output_names=["last_hidden_state"],
                    dynamic_axes=axes,
                    opset_version=OPSET,
                    do_constant_folding=True,
                    dynamo=False,
                )
        # Refuse a broken export now rather than serve wrong vectors from the cache forever.
        import onnxruntime as ort

        sess = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        got = sess.run(None, {n: dummy[n].numpy() for n in input_names})[0]
        valid = mask.numpy().astype(bool)
        err = float(np.abs(got[valid] - expected[valid]).max())
        if err > 1e-3:
            raise QAError(f"ONNX export of {transformer_dir} differs from torch by {err:.2e}.")
        write_checked(out_path, tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)


def quantize_int8(fp32_path: Path, out_path: Path) -> None:
    """Dynamically quantize the fp32 export to int8 weights (see ``INT8_OPTIONS``), atomically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # quant_pre_process fails on this graph ("Incomplete symbolic shape inference") and gains
    # nothing for dynamic quantization, so its root-logger nag is filtered out.
    def _no_preprocess_nag(record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(_no_preprocess_nag)
    tmp = temp_beside(out_path)
    try:
        quantize_dynamic(str(fp32_path), tmp, weight_type=QuantType.QInt8, **INT8_OPTIONS)
        write_checked(out_path, tmp)
    finally:
        root.removeFilter(_no_preprocess_nag)
        Path(tmp).unlink(missing_ok=True)


class OnnxEncoder:
    """all-MiniLM-L6-v2 (or another mean/CLS-pooled ST model) on ONNX Runtime.

    ``model_id`` is the base id plus ``+onnx`` or ``+onnx-int8``, so an index built with one
    variant is seen as stale by another. Nothing heavy happens in the constructor; the export
    (first time only) and the session load happen on the first ``encode`` or ``load``.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        quantized: bool = False,
        cache_dir: str | Path | None = None,
        threads: int | None = None,
    ) -> None:
        offline_env()
        base_id, location = resolve_model_path(model)
        self.quantized = quantized
        self.backend = "onnx-int8" if quantized else "onnx"
        self.model_id = f"{base_id}+onnx-int8" if quantized else f"{base_id}+onnx"
        self._base_id = base_id
        self._folder = _local_folder(location)
        self._transformer_dir, self._pooling_cfg = _module_layout(self._folder)
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        self.threads = threads or os.cpu_count() or 1

        st_cfg_file = self._transformer_dir / "sentence_bert_config.json"
        if not st_cfg_file.exists():
            st_cfg_file = self._folder / "sentence_bert_config.json"
        st_cfg = _read_json(st_cfg_file) if st_cfg_file.exists() else {}
        hf_cfg = _read_json(self._transformer_dir / "config.json")
        self.max_seq_length = int(
            st_cfg.get("max_seq_length") or hf_cfg.get("max_position_embeddings", 512)
        )
        self._lowercase = bool(st_cfg.get("do_lower_case", False))
        pool = (
            _read_json(self._pooling_cfg)
            if self._pooling_cfg is not None and self._pooling_cfg.exists()
            else {"pooling_mode_mean_tokens": True}
        )
        if pool.get("pooling_mode_mean_tokens"):
            self._pooling = "mean"
        elif pool.get("pooling_mode_cls_token"):
            self._pooling = "cls"
        else:
            raise QAError(
                f"Model {self._folder} uses a pooling mode the ONNX backend does not implement "
                f"({pool}). Fix: use --backend torch for this model."
            )
        self.dim = int(pool.get("word_embedding_dimension") or hf_cfg["hidden_size"])

        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: list[str] = []
        self._export_dir: Path | None = None

    # -- cache layout -------------------------------------------------------------------

    @property
    def export_dir(self) -> Path:
        """The cache subfolder for this model's exact files (hashing them on first access)."""
        if self._export_dir is None:
            key = _files_hash(self._folder, self._transformer_dir, self._pooling_cfg)
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self._base_id)
            self._export_dir = self.cache_dir / f"{safe}-{key}"
        return self._export_dir

    @property
    def onnx_path(self) -> Path:
        """The .onnx file this encoder runs (fp32 or int8)."""
        return self.export_dir / (INT8_FILE if self.quantized else FP32_FILE)

    def _ensure_files(self) -> None:
        target = self.onnx_path
        if is_intact(target):
            return
        with _export_lock(self.export_dir):
            if is_intact(target):  # another process exported it while this one waited
                return
            if target.exists():
                log.warning("ONNX export %s fails its checksum; exporting it again", target)
            self._export(target)

    def _export(self, target: Path) -> None:
        fp32 = self.export_dir / FP32_FILE
        if not is_intact(fp32):
            export_onnx(self._transformer_dir, fp32)
        if self.quantized:
            quantize_int8(fp32, target)
        meta = {
            "model_id": self._base_id,
            "source": str(self._folder),
            "recipe": EXPORT_RECIPE,
            "opset": OPSET,
            "int8_options": INT8_OPTIONS,
            "max_seq_length": self.max_seq_length,
            "pooling": self._pooling,
        }
        write_bytes_atomic(self.export_dir / META_FILE, json.dumps(meta, indent=2).encode())

    # -- loading ------------------------------------------------------------------------

    def load(self) -> None:
        """Export if needed, then load the tokenizer and the ONNX Runtime session (once)."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            try:
                self._ensure_files()
            except OSError as exc:
                raise QAError(
                    f"Cannot write the ONNX export cache {self.cache_dir}: {exc}. Fix: set "
                    "QA_MODEL_CACHE (or pass cache_dir) to a writable folder."
                ) from exc
            self._tokenizer = self._load_tokenizer()
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Idle workers sleep instead of spinning. Spinning steals the CPU from whatever
            # runs next on 2 cores (the web server, BM25; in bench/bench.py it slowed the bare
            # torch query from 18 to 35 ms); batch encoding is only about 3% slower without it.
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(
                str(self.onnx_path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
            self._input_names = [i.name for i in session.get_inputs()]
            self._session = session  # published last: other threads test it without the lock

    def _load_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        path = self._transformer_dir / "tokenizer.json"
        if not path.exists():
            path = self._folder / "tokenizer.json"
        if not path.exists():
            raise QAError(
                f"Model {self._folder} has no tokenizer.json (a fast tokenizer), which the ONNX "
                "backend needs. Fix: save the model with a fast tokenizer, or use --backend torch."
            )
        tok = Tokenizer.from_file(str(path))
        padding = tok.padding or {}
        self._pad_id = int(padding.get("pad_id", tok.token_to_id("[PAD]") or 0))
        # tokenizer.json ships fixed 128-token padding/truncation; sentence-transformers uses
        # max_seq_length and pads per batch, so both are reset here.
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_seq_length)
        return tok

    # -- encoding -----------------------------------------------------------------------

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False
    ) -> np.ndarray:
        """Encode texts to an ``(n, dim)`` float32 array of unit vectors, in input order."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        batch_size = max(1, int(batch_size))
        prepared = [t.lower() if self._lowercase else t for t in texts]
        encodings = self._tokenizer.encode_batch(prepared, add_special_tokens=True)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        # Longest first, so each batch pads to a similar length and the first batch shows
        # the worst-case memory straight away.
        order = np.argsort(-lengths, kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(order), batch_size)
        if show_progress:
            from tqdm.auto import tqdm  # a dependency of huggingface_hub and tokenizers' users

            starts = tqdm(starts, desc="onnx encode", unit="batch")
        for start in starts:
            idx = order[start : start + batch_size]
            width = int(lengths[idx[0]])
            ids = np.full((len(idx), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            types = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                enc = encodings[i]
                n = len(enc.ids)
                ids[row, :n] = enc.ids
                mask[row, :n] = enc.attention_mask
                types[row, :n] = enc.type_ids
            arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            feeds = {name: arrays[name] for name in self._input_names}
            hidden = self._session.run(["last_hidden_state"], feeds)[0]
            out[idx] = self._pool(hidden, mask)
        return out

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self._pooling == "cls":
            pooled = hidden[:, 0, :]
        else:
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def __repr__(self) -> str:
        return f"OnnxEncoder(model_id={self.model_id!r}, cache={str(self.cache_dir)!r})"

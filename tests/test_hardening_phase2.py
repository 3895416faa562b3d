# ruff: noqa: F811 - test functions take the imported app_server fixture by name
"""Issue 13, phase 2: index faults, concurrent rebuilds, API input, CLI output and the app.

Each test was written before its fix and failed on the code of that time (they were strict
xfails until the fix landed). The concurrency and kill cases run as bounded subprocesses.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import qa.index
import qa.store
from qa.embedding import FakeEncoder
from qa.errors import IndexCorruptError, QAError
from qa.fileio import file_sha256 as sha256_file
from qa.index import build_index, load_index, open_index
from tests.test_app_server import app_server  # noqa: F401 - the shared app fixture
from tests.test_reliability import GOOD_IDS, write_corpus

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Which scholarships do British universities offer?"


def _env() -> dict[str, str]:
    env = dict(os.environ, QA_BACKEND="fake", HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    for key in ("QA_CORPUS", "QA_INDEX"):
        env.pop(key, None)
    return env


def qa_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``qa ARGS`` in a subprocess (fake encoder)."""
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=_env(), cwd=cwd,
    )  # fmt: skip


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The single ``error:`` line of a failed command (asserting there is nothing else)."""
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


@pytest.fixture
def built(tmp_path):
    """A small corpus and its index (fake encoder)."""
    corpus = write_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    build_index(corpus, index, encoder=FakeEncoder())
    return corpus, index


def _current(index: Path) -> Path:
    return index / json.loads((index / "CURRENT").read_text("utf-8"))["version"]


def _rewrite_manifest(index: Path, edit) -> None:  # noqa: ANN001
    """Edit the manifest, then fix its checksum in CURRENT (as a careless tool would)."""
    folder = _current(index)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    edit(manifest, folder)
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    cur = json.loads((index / "CURRENT").read_text("utf-8"))
    cur["manifest_sha256"] = sha256_file(folder / "manifest.json")
    (index / "CURRENT").write_text(json.dumps(cur), "utf-8")


def _bounded(fn, timeout: float = 30):  # noqa: ANN001, ANN202
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # inspected by the caller
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    out["hung"] = t.is_alive()
    return out


# --- concurrency and crashes -----------------------------------------------------------------


def test_reader_gets_a_complete_index_when_a_rebuild_lands_mid_open(built, monkeypatch):
    # Deterministic form of the race: a whole rebuild (and its cleanup) runs between the
    # reader finding CURRENT and reading the version's files.
    corpus, index = built
    real = qa.index.current_version
    done = []

    def racing(path):  # noqa: ANN001, ANN202
        found = real(path)
        if not done:
            done.append(1)
            build_index(corpus, index, encoder=FakeEncoder(), force=True)
        return found

    monkeypatch.setattr(qa.index, "current_version", racing)
    loaded = load_index(index, encoder=FakeEncoder())
    assert sorted(d.doc_id for d in loaded.documents) == GOOD_IDS


def test_readers_during_rebuilds_never_fail(built, tmp_path):
    # Bounded subprocess form: 8 forced rebuilds while this process loads the index.
    corpus, index = built
    code = (
        "import sys\nfrom qa.embedding import FakeEncoder\nfrom qa.index import build_index\n"
        "for _ in range(8):\n"
        "    build_index(sys.argv[1], sys.argv[2], encoder=FakeEncoder(), force=True)\n"
    )
    builder = subprocess.Popen(
        [sys.executable, "-c", code, str(corpus), str(index)], env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    failures, loads = [], 0
    try:
        while builder.poll() is None and loads < 400:
            try:
                load_index(index, encoder=FakeEncoder())
            except Exception as exc:  # counted, not raised: the test reports them all
                failures.append(f"{type(exc).__name__}: {exc}")
            loads += 1
    finally:
        builder.wait(timeout=300)
    assert builder.returncode == 0, builder.stderr.read()
    assert loads > 0
    assert failures == []


def test_temp_folders_of_killed_builds_are_removed_by_the_next_build(built):
    corpus, index = built
    dead = index / "v-20200101T000000-deadbeef.tmp"  # what SIGKILL mid-build leaves
    (dead / "bm25").mkdir(parents=True)
    (dead / "vectors.npy").write_bytes(b"\0" * 4096)
    build_index(corpus, index, encoder=FakeEncoder())  # nothing changed: no new version
    assert not dead.exists()


# --- index folder and paths ------------------------------------------------------------------


def _read_only(monkeypatch, index: Path) -> None:
    """Make every write under ``index`` fail with EROFS (root ignores chmod)."""
    import builtins

    real_open, real_os_open, real_mkdir = builtins.open, os.open, os.mkdir
    ro = errno.EROFS

    def inside(path) -> bool:  # noqa: ANN001
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(index.resolve())
        except (TypeError, ValueError):
            return False

    def guarded_open(file, mode="r", *args, **kwargs):  # noqa: ANN001, ANN202
        if isinstance(file, (str, bytes, os.PathLike)) and inside(file) and set(mode) & set("wax+"):
            raise OSError(ro, "Read-only file system", os.fsdecode(file))
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):  # noqa: ANN001, ANN202
        writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        if inside(path) and flags & writes:
            raise OSError(ro, "Read-only file system", os.fsdecode(path))
        return real_os_open(path, flags, *args, **kwargs)

    def guarded_mkdir(path, *args, **kwargs):  # noqa: ANN001, ANN202
        if inside(path):
            raise OSError(ro, "Read-only file system", os.fsdecode(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    monkeypatch.setattr(os, "mkdir", guarded_mkdir)


def test_read_only_index_build_with_nothing_to_do_gives_a_qa_error(built, monkeypatch):
    corpus, index = built
    _read_only(monkeypatch, index)
    with pytest.raises(QAError, match="read-only|Read-only"):
        build_index(corpus, index, encoder=FakeEncoder())


def test_read_only_index_with_a_stale_corpus_still_serves_with_a_warning(
    built, monkeypatch, caplog
):
    corpus, index = built
    (corpus / "new.txt").write_text("New note\n\nThe embassy opened a visa office.\n", "utf-8")
    _read_only(monkeypatch, index)
    with caplog.at_level("WARNING", logger="qa"):
        loaded = open_index(corpus, index, encoder=FakeEncoder())
    assert sorted(d.doc_id for d in loaded.documents) == GOOD_IDS  # what is there
    assert any("stale" in m and "read-only" in m for m in caplog.messages)


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_index_path_naming_a_file_is_one_error_line(tmp_path, where):
    corpus = write_corpus(tmp_path / "corpus")
    target = tmp_path / "afile"
    target.write_text("not a folder")
    path = target if where == "file" else target / "sub"
    line = one_error_line(qa_cli("index", "--corpus", str(corpus), "--index", str(path),
                                 cwd=tmp_path))  # fmt: skip
    assert str(path) in line
    with pytest.raises(QAError):
        build_index(corpus, path, encoder=FakeEncoder())


@pytest.mark.parametrize("name", ["CURRENT", "manifest.json"])
def test_fifo_in_place_of_an_index_file_does_not_hang(built, name):
    corpus, index = built
    target = index / name if name == "CURRENT" else _current(index) / name
    target.unlink()
    os.mkfifo(target)
    try:
        out = _bounded(lambda: load_index(index, encoder=FakeEncoder()))
        assert not out["hung"], "load_index blocked on a FIFO"
        assert isinstance(out.get("error"), IndexCorruptError), out
        out = _bounded(lambda: build_index(corpus, index, encoder=FakeEncoder()))
        assert not out["hung"], "build_index blocked on a FIFO"
        assert "error" not in out, out  # a build replaces what it cannot read
    finally:
        if not target.is_file():
            try:  # wake a reader still blocked in open(), then remove the FIFO
                os.close(os.open(target, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
            target.unlink()


def _drop(key):  # noqa: ANN001, ANN202
    return lambda m, folder: m.pop(key)


def _files_as_list(m, folder) -> None:  # noqa: ANN001
    m["files"] = list(m["files"])


def _entry_without_bytes(m, folder) -> None:  # noqa: ANN001
    del m["files"]["vectors.npy"]["bytes"]


def _huge_npy_header(m, folder) -> None:  # noqa: ANN001
    p = folder / "vectors.npy"
    arr = np.load(p)
    raw = p.read_bytes()
    end = raw.index(b"\n") + 1
    header = raw[10:end].decode("latin-1")
    header = header.replace(f"({arr.shape[0]}, ", "(4000000000000, ")
    header = header.rstrip(" \n")
    header += " " * (end - 10 - 1 - len(header)) + "\n"
    p.write_bytes(raw[:10] + header.encode("latin-1") + raw[end:])
    m["files"]["vectors.npy"]["sha256"] = sha256_file(p)
    m["files"]["vectors.npy"]["bytes"] = p.stat().st_size


MANIFEST_DAMAGE = {
    "no-counts": _drop("counts"),
    "no-model": _drop("model"),
    "no-corpus": _drop("corpus"),
    "files-as-list": _files_as_list,
    "entry-without-bytes": _entry_without_bytes,
    "npy-4e12-rows": _huge_npy_header,
}


@pytest.mark.parametrize("case", sorted(MANIFEST_DAMAGE))
def test_manifest_with_missing_or_mistyped_fields_fails_cleanly_and_is_repaired(built, case):
    corpus, index = built
    _rewrite_manifest(index, MANIFEST_DAMAGE[case])
    with pytest.raises(IndexCorruptError):
        load_index(index, encoder=FakeEncoder())
    repaired = build_index(corpus, index, encoder=FakeEncoder())  # no --force needed
    assert sorted(d.doc_id for d in repaired.documents) == GOOD_IDS
    assert sorted(d.doc_id for d in load_index(index, encoder=FakeEncoder()).documents) == GOOD_IDS


def test_huge_version_name_in_current_fails_cleanly_and_is_repaired(built):
    corpus, index = built
    cur = json.loads((index / "CURRENT").read_text("utf-8"))
    cur["version"] = "v-" + "x" * 1_000_000
    (index / "CURRENT").write_text(json.dumps(cur), "utf-8")
    with pytest.raises(IndexCorruptError):
        load_index(index, encoder=FakeEncoder())
    proc = qa_cli("index", "--corpus", str(corpus), "--index", str(index), cwd=index.parent)
    assert proc.returncode == 0, proc.stderr[-500:]


@pytest.mark.integration
def test_truncated_onnx_export_is_detected(tmp_path, monkeypatch):
    from qa.embedding import get_encoder
    from qa.onnx_encoder import default_cache_dir

    src = default_cache_dir()  # the machine's shared export cache (``make test`` fills it)
    cache = tmp_path / "models"
    get_encoder(None, "onnx-int8", cache_dir=src).encode(["warm the shared export"])
    shutil.copytree(src, cache)
    victims = list(cache.rglob("model-int8.onnx"))
    assert victims
    for v in victims:
        with open(v, "r+b") as fh:
            fh.truncate(v.stat().st_size // 2)
    monkeypatch.setenv("QA_MODEL_CACHE", str(cache))  # $QA_MODEL_CACHE wins over cache_dir
    try:
        vec = get_encoder(None, "onnx-int8", cache_dir=cache).encode(["trade with the UK"])
    except QAError:
        return  # one clear error line is the other acceptable outcome (re-export is better)
    assert vec.shape[0] == 1  # re-exported


# --- API input -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("phase2")
    return build_index(write_corpus(tmp / "corpus"), tmp / "index", encoder=FakeEncoder())


@pytest.mark.parametrize("k", ["5", None, 5.5, math.nan, math.inf, True])
def test_retrieve_rejects_a_k_that_is_not_a_positive_whole_number(small, k):
    with pytest.raises(ValueError, match=r"\bk\b"):
        small.retrieve(QUESTION, k=k)


@pytest.mark.parametrize("k", ["5", None, 5.5, math.nan, math.inf, 0, -1])
def test_answer_rejects_the_same_k_values_as_retrieve(small, k):
    with pytest.raises(ValueError, match=r"\bk\b"):
        small.answer(QUESTION, k=k)


@pytest.mark.parametrize(
    "history",
    [["text"], [None], "text", 5, [{"role": "user"}], [{"role": "user", "content": 5}]],
    ids=["list-of-str", "list-of-none", "str", "int", "no-content", "int-content"],
)
def test_history_of_the_wrong_shape_is_refused_with_the_expected_shape(small, history):
    with pytest.raises(ValueError, match=r"role.*content"):
        small.answer("And what else?", history)


@pytest.mark.parametrize("value", ["2024-13-45", "garbage", 20240101, "2024-02-30"])
@pytest.mark.parametrize("field", ["date_from", "date_to"])
def test_retrieve_rejects_dates_that_are_not_iso(small, field, value):
    with pytest.raises(ValueError, match=field):
        small.retrieve(QUESTION, k=3, **{field: value})


def test_over_long_previous_turn_does_not_break_a_short_follow_up(small):
    long_turn = " ".join(f"Officer Aa{i} Bb{i} met." for i in range(700))  # ~12,000 chars
    history = [
        {"role": "user", "content": long_turn},
        {"role": "assistant", "content": "The articles do not answer this question."},
    ]
    answer = small.answer("And what did he say?", history)
    assert answer.text


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_output_has_no_raw_control_characters(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "evil\nname.txt").write_text(
        "Escape probe\n\nThe lighthouse keepers\x1b[2J counted seventeen towers\x1b]0;pwned\x07 "
        "in the northern estuary.\n",
        "utf-8",
    )
    index = tmp_path / "index"
    assert (
        qa_cli("index", "--corpus", str(corpus), "--index", str(index), cwd=tmp_path).returncode
        == 0
    )
    for cmd in ("search", "ask"):
        for extra in ([], ["--json"]):
            proc = qa_cli(cmd, "How many towers did the lighthouse keepers count?",
                          "--corpus", str(corpus), "--index", str(index), *extra, cwd=tmp_path)  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            out = proc.stdout + proc.stderr
            assert "\x1b" not in out and "\x07" not in out, (cmd, extra)
            if not extra:
                assert "evil\nname.txt" not in out


def test_nothing_is_written_before_the_arguments_are_valid(tmp_path):
    afile = tmp_path / "somefile"
    afile.write_text("x")
    proc = qa_cli("search", "trade", "--corpus", str(afile), cwd=tmp_path)
    one_error_line(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["somefile"]


def test_quoted_sentence_is_bounded_on_a_huge_single_line_file(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    words = "the lighthouse keepers counted seventeen towers along the estuary and "
    (corpus / "oneline.txt").write_text(
        "Lighthouse survey\n\n" + words * (2_000_000 // len(words)) + "\n", "utf-8"
    )  # one 2 MB sentence (the report's case was 19.5 MB and printed a 78 MB answer)
    index = tmp_path / "index"
    assert (
        qa_cli("index", "--corpus", str(corpus), "--index", str(index), cwd=tmp_path).returncode
        == 0
    )
    proc = qa_cli("ask", "How many towers did the lighthouse keepers count?", "--json",
                  "--corpus", str(corpus), "--index", str(index), cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-500:]
    assert len(proc.stdout) < 200_000
    assert "…" in proc.stdout


# --- the web app -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("user:secret\n", ("user", "secret")), (" user : secret ", ("user", "secret"))],
)
def test_auth_is_trimmed_on_both_sides(value, expected):
    from qa.launch import parse_auth

    assert parse_auth(value) == expected


@pytest.mark.parametrize("value", ["user:   ", "user:\n", "user:\t"])
def test_blank_password_is_refused(value):
    from qa.launch import parse_auth

    with pytest.raises(ValueError):
        parse_auth(value)


@pytest.mark.integration
def test_foreign_host_header_is_refused_on_loopback(app_server):
    from tests.test_app_server import http_get

    status, _ = http_get(app_server.url, {"Host": "evil.example"})
    assert status in (400, 403, 421)
    status, _ = http_get(app_server.url, {"Host": f"localhost:{app_server.port}"})
    assert status == 200


@pytest.mark.integration
def test_oversized_chat_request_is_refused_before_any_work(app_server):
    import httpx

    body = json.dumps({"data": ["x" * (5 * 1024 * 1024), []]})
    resp = httpx.post(app_server.url + "gradio_api/call/chat", content=body,
                      headers={"Content-Type": "application/json"}, timeout=60)  # fmt: skip
    assert resp.status_code == 413


@pytest.mark.integration
def test_uploads_are_limited_per_client(app_server, tmp_path):
    # Its own app: the flood must not spend the shared app's upload budget for other tests.
    import httpx

    from qa.launch import UPLOADS_PER_MINUTE
    from tests.test_app_server import start_app

    index = app_server.tmp / "embeddings"
    server = start_app(tmp_path, "--corpus", str(app_server.corpus), "--index", str(index))
    try:
        codes = []
        for i in range(UPLOADS_PER_MINUTE + 5):
            resp = httpx.post(
                server.url + "gradio_api/upload?upload_id=same-session",
                files={"files": (f"q{i}.jsonl", b'{"question": "x"}\n' * 1000, "text/plain")},
                timeout=60,
            )
            codes.append(resp.status_code)
    finally:
        server.stop()
    assert codes == [200] * UPLOADS_PER_MINUTE + [429] * 5


def _queue_call(server, api_name: str, data: list, session: str) -> str:  # noqa: ANN001
    """Call event ``api_name`` the way a script can (``/gradio_api/queue/join``); the SSE text."""
    import httpx

    config = httpx.get(server.url + "config", timeout=30).json()
    fn_index = next(
        d.get("id", i)
        for i, d in enumerate(config["dependencies"])
        if d.get("api_name") == api_name
    )
    join = httpx.post(
        server.url + "gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": session,
              "event_data": None, "trigger_id": None},
        timeout=60,
    )  # fmt: skip
    assert join.status_code == 200, join.text
    with httpx.stream(
        "GET", server.url + f"gradio_api/queue/data?session_hash={session}", timeout=120
    ) as stream:
        for line in stream.iter_lines():
            if "process_completed" in line:
                return line
    return ""


@pytest.mark.integration
def test_evaluate_cannot_reach_another_sessions_upload(app_server):
    import httpx

    from qa.ui import NOT_YOUR_UPLOAD

    resp = httpx.post(
        app_server.url + "gradio_api/upload",
        files={"files": ("mine.jsonl", b'{"question": "Who visited Hanoi?"}\n', "text/plain")},
        timeout=60,
    )
    assert resp.status_code == 200
    victim = resp.json()[0]
    file = [{"path": victim, "meta": {"_type": "gradio.FileData"}}]
    # The victim's browser names its upload at once (the upload event): the file is its own.
    assert "Ready" in _queue_call(app_server, "check_file", file, "victim-session")
    for api_name in ("check_file", "evaluate"):  # another session can neither claim nor run it
        done = _queue_call(app_server, api_name, file, "attacker-session")
        assert NOT_YOUR_UPLOAD.split(" (")[0] in done, done
        assert Path(victim).exists()  # nothing the caller did not create is deleted
    done = _queue_call(app_server, "evaluate", file, "victim-session")
    assert "answered from the top" in done, done
    # The owner's file stays in the box for another run (still its own): others stay refused.
    done = _queue_call(app_server, "evaluate", file, "attacker-session")
    assert NOT_YOUR_UPLOAD.split(" (")[0] in done, done


# --- added with the fixes --------------------------------------------------------------------


def test_build_killed_mid_write_leaves_a_temp_folder_the_next_build_removes(built):
    # Bounded: the child build stops just before publishing (the temp folder is complete), is
    # killed with SIGKILL, and the next build must remove what it left and still serve.
    import signal
    import time

    corpus, index = built
    code = (
        "import sys, time\nimport qa.store\nfrom qa.embedding import FakeEncoder\n"
        "from qa.index import build_index\n"
        "qa.store.VersionWriter.publish = lambda self, manifest: time.sleep(120)\n"
        "build_index(sys.argv[1], sys.argv[2], encoder=FakeEncoder(), force=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(corpus), str(index)], env=_env())
    try:
        deadline = time.monotonic() + 60
        while not list(index.glob("v-*.tmp/passages.jsonl")) and time.monotonic() < deadline:
            assert child.poll() is None, "the child build ended early"
            time.sleep(0.05)
        assert list(index.glob("v-*.tmp")), "no temp folder appeared within 60 s"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    build_index(corpus, index, encoder=FakeEncoder())  # nothing changed: no new version
    assert list(index.glob("v-*.tmp")) == []
    assert sorted(d.doc_id for d in load_index(index, encoder=FakeEncoder()).documents) == GOOD_IDS


def test_a_rebuild_keeps_the_version_it_replaces_and_deletes_older_ones(built):
    corpus, index = built
    first = _current(index).name
    build_index(corpus, index, encoder=FakeEncoder(), force=True)
    second = _current(index).name
    assert sorted(p.name for p in index.glob("v-*")) == sorted([first, second])
    build_index(corpus, index, encoder=FakeEncoder(), force=True)
    third = _current(index).name
    assert sorted(p.name for p in index.glob("v-*")) == sorted([second, third])


def test_reader_retries_once_when_current_moved_and_its_version_vanished(built, monkeypatch):
    # Two rebuilds land while the reader opens the version CURRENT named: that version is gone
    # (only the previous one is kept), so the reader must read the new CURRENT once more.
    corpus, index = built
    real = qa.index.current_version
    done = []

    def racing(path):  # noqa: ANN001, ANN202
        found = real(path)
        if not done:
            done.append(1)
            build_index(corpus, index, encoder=FakeEncoder(), force=True)
            build_index(corpus, index, encoder=FakeEncoder(), force=True)
        return found

    monkeypatch.setattr(qa.index, "current_version", racing)
    loaded = load_index(index, encoder=FakeEncoder())
    assert sorted(d.doc_id for d in loaded.documents) == GOOD_IDS


def test_read_only_index_build_is_one_error_line(built, monkeypatch):
    corpus, index = built
    _read_only(monkeypatch, index)
    with pytest.raises(QAError) as err:
        build_index(corpus, index, encoder=FakeEncoder(), force=True)
    assert str(err.value) == (
        f"Could not write the index to {str(index)!r} (Read-only file system). "
        "Fix: make the folder writable and rebuild; the current index is untouched."
    )


def test_corpus_symlink_loop_is_one_error_line(tmp_path):
    loop = tmp_path / "corpus"
    loop.symlink_to(loop)
    for cmd in (["index"], ["search", "trade"]):
        line = one_error_line(qa_cli(*cmd, "--corpus", str(loop), cwd=tmp_path))
        assert line == (
            f"error: Corpus path {str(loop)!r} is a symlink loop. Fix: pass --corpus a folder."
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]  # nothing written


def test_module_level_entry_points_validate_before_any_index_is_built(tmp_path, monkeypatch):
    import qa

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QA_CORPUS", str(tmp_path / "none"))
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "idx"))
    for k in ("5", None, 5.5, math.nan, 0, True):
        with pytest.raises(ValueError, match=r"\bk\b"):
            qa.retrieve(QUESTION, k=k)
    with pytest.raises(ValueError, match=r"role.*content"):
        qa.answer(QUESTION, ["text"])
    assert list(tmp_path.iterdir()) == []


def test_history_turns_are_cut_and_only_the_last_messages_kept():
    from qa.questions import MAX_HISTORY_MESSAGES, MAX_HISTORY_TURN_CHARS, check_history

    history = [{"role": "user", "content": "x" * 50_000}] * 100
    out = check_history(history)
    assert len(out) == MAX_HISTORY_MESSAGES
    assert {len(m["content"]) for m in out} == {MAX_HISTORY_TURN_CHARS}
    assert check_history(None) == []


def test_long_sentences_are_cut_into_bounded_pieces_at_clause_or_word_boundaries():
    from qa.text import MAX_SENTENCE_CHARS, split_sentences

    text = ("alpha beta gamma, " * 200) + "end. Next sentence here."
    pieces = split_sentences(text)
    assert all(len(s) <= MAX_SENTENCE_CHARS + 50 for _, _, s in pieces)
    assert all(text[a:b] == s for a, b, s in pieces)
    assert pieces[0][2].endswith("gamma,")
    assert pieces[-1][2] == "Next sentence here."


def test_quoted_sentence_is_cut_with_an_ellipsis_and_a_note():
    from qa.render import MAX_QUOTE_CHARS, SHORTENED_NOTE, answer_markdown, bounded_quote

    long = "The keepers counted towers, " * 40
    cut = bounded_quote(long)
    assert len(cut) <= MAX_QUOTE_CHARS + 2 and cut.endswith("towers …")
    assert bounded_quote("Short one.") == "Short one."
    assert SHORTENED_NOTE in answer_markdown([long], [[1]], [])


def test_terminal_safe_escapes_controls_and_keeps_json_valid():
    from qa.render import terminal_safe

    raw = "a\x1b[2J b\x1b]0;t\x07 c\x9b d\u202e e\n\tf"
    assert terminal_safe(raw) == "a\\u001b[2J b\\u001b]0;t\\u0007 c\\u009b d\\u202e e\n\tf"
    assert terminal_safe("evil\nname.txt", one_line=True) == "evil\\nname.txt"
    assert json.loads(terminal_safe(json.dumps({"t": raw}, ensure_ascii=False))) == {"t": raw}

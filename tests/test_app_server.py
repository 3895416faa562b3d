"""The web app as users and API clients meet it: ``python app.py`` in a subprocess, on a free
loopback port, over a private copy of the corpus (plus one hostile article), with the real
bundled model. Asked through ``gradio_client`` and plain HTTP.

The running app is shared with ``tests/test_browser.py`` (one model load per session).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
NCA_TITLE = "Vietnam, UK enhance cooperation in law enforcement"
XSS_FILE = "900_harbour_inspection.txt"
# An article whose text tries to run code wherever it is shown (chat, sources, documents).
XSS_TEXT = """Harbour inspection report

The harbour inspection team counted seventeen lighthouses along the northern estuary \
<script>window.__xss=1</script> during the spring survey.

Inspectors noted that the lighthouse keepers <img src=x onerror="window.__xss=2"> repainted \
every tower before the survey ended.

Template probes ${window.__xss=3} and {{constructor.constructor('window.__xss=4')()}} stay text.
"""
XSS_QUESTION = "How many lighthouses did the harbour inspection team count?"
START_TIMEOUT = 240  # a cold first start loads torch and the model on a busy 2-core machine


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """``(status, body)`` of a GET, without raising on 4xx/5xx."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def app_env(tmp: Path) -> dict[str, str]:
    """The environment the app runs in: offline, uploads in a private temp folder."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        GRADIO_TEMP_DIR=str(tmp / "gradio-tmp"),
        PYTHONUNBUFFERED="1",
    )
    for key in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "QA_AUTH", "QA_CORPUS", "QA_INDEX"):
        env.pop(key, None)
    return env


@dataclass
class AppServer:
    """A running ``app.py`` subprocess."""

    proc: subprocess.Popen
    port: int
    log: Path
    tmp: Path
    corpus: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def upload_dir(self) -> Path:
        return self.tmp / "gradio-tmp"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then wait; the exit code (killed and -9 if it hangs)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                return -9
        return self.proc.returncode


def start_app(tmp: Path, *args: str, env: dict[str, str] | None = None) -> AppServer:
    """Start ``app.py`` on a free port and wait until it serves its page."""
    port = free_port()
    log = tmp / f"app-{port}.log"
    fh = log.open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), *args],
        cwd=tmp,  # nothing of the checkout may be served just because it is the cwd
        env=env or app_env(tmp),
        stdout=fh,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    fh.close()
    server = AppServer(proc, port, log, tmp)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app.py exited with {proc.returncode}:\n{server.output()}")
        if port_open(port):
            # /config: Gradio's own page (the starting page answers "/" earlier, 503 here).
            try:
                status, _ = http_get(server.url + "config")
            except (urllib.error.URLError, ConnectionError):  # the hand-over to Gradio
                status = 0
            if status in (200, 401):
                return server
        time.sleep(0.5)
    server.stop()
    pytest.fail(f"app.py did not serve within {START_TIMEOUT} s:\n{server.output()}")


def make_corpus(dst: Path) -> Path:
    """The real corpus plus the hostile article (undated, so it sorts last)."""
    shutil.copytree(CORPUS, dst)
    (dst / XSS_FILE).write_text(XSS_TEXT, encoding="utf-8")
    return dst


def build_index(corpus: Path, index: Path, tmp: Path) -> None:
    """Index ``corpus`` with the ``qa`` command in a subprocess (keeps torch out of pytest)."""
    code = "import sys; from qa.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, "index", "--corpus", str(corpus), "--index", str(index)],
        cwd=ROOT,
        env=app_env(tmp),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]


_SHARED: dict[str, AppServer] = {}


def shared_app(factory: pytest.TempPathFactory) -> AppServer:
    """The session's app over the test corpus, started on first use (module-level so that
    ``test_browser.py`` reuses the same process)."""
    if "app" not in _SHARED:
        tmp = factory.mktemp("app")
        corpus = make_corpus(tmp / "corpus")
        build_index(corpus, tmp / "embeddings", tmp)
        server = start_app(tmp, "--corpus", str(corpus), "--index", str(tmp / "embeddings"))
        server.corpus = corpus
        _SHARED["app"] = server
    return _SHARED["app"]


def stop_shared() -> None:
    """Stop the session's app (once, whichever module's fixture ends last) and check that
    SIGTERM shut it down cleanly."""
    server = _SHARED.pop("app", None)
    if server is not None:
        code = server.stop()
        assert code == 0, f"app.py exited with {code} on SIGTERM:\n{server.output()[-3000:]}"
        assert not port_open(server.port)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory):
    """The running app (see :func:`shared_app`); stopped at the end of the session."""
    yield shared_app(tmp_path_factory)
    stop_shared()


@pytest.fixture(scope="session")
def client(app_server: AppServer):
    from gradio_client import Client

    return Client(app_server.url, verbose=False)


def config_text(server: AppServer, headers: dict[str, str] | None = None) -> str:
    """The page's component config (what the browser renders), as text."""
    status, body = http_get(server.url + "config", headers)
    assert status == 200, body[:500]
    return body


# --- the chat API -----------------------------------------------------------------------------


def test_chat_answers_with_cited_source(client) -> None:
    reply = client.predict("Which agencies did Le Quoc Hung visit?", api_name="/chat")
    assert "NCA" in reply or "National Crime Agency" in reply
    body, _, sources = reply.partition("**Sources**")
    assert "[1]" in body and sources, reply
    cited = [line for line in sources.splitlines() if line.startswith("[")]
    nca = [line for line in cited if NCA_TITLE in line]
    assert nca, reply
    assert "VNA" in nca[0] and "2023-09-16 (inferred)" in nca[0] and "paragraph" in nca[0]


def test_chat_follow_up_uses_history(client) -> None:
    first = "Which agencies did Le Quoc Hung visit?"
    history = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": client.predict(first, api_name="/chat")},
    ]
    reply = client.predict("Who did he hold talks with?", history, api_name="/chat")
    assert "Searched for:" in reply and "Le Quoc Hung" in reply.split("Searched for:")[1]


def test_chat_declines_what_the_articles_do_not_say(client) -> None:
    reply = client.predict("Who is the president of France?", api_name="/chat")
    assert reply.startswith("The articles do not answer this question.")


@pytest.mark.parametrize(
    ("message", "expected"),
    [("", "The question is empty"), ("   \n ", "The question is empty"),
     ("why " * 600, "the limit is 2,000")],
)  # fmt: skip
def test_chat_bad_input_gets_a_clear_reply(client, message: str, expected: str) -> None:
    reply = client.predict(message, api_name="/chat")
    assert reply.startswith("⚠️") and expected in reply


def test_chat_escapes_hostile_document_text(client) -> None:
    reply = client.predict(XSS_QUESTION, api_name="/chat")
    assert "seventeen lighthouses" in reply
    assert "<script>" not in reply and "\\<script\\>" in reply


def test_api_lists_only_the_chat_endpoint(client) -> None:
    api = client.view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/chat"]
    assert api["unnamed_endpoints"] == {}


# --- the page ---------------------------------------------------------------------------------


def test_page_shows_index_status(app_server: AppServer) -> None:
    status, page = http_get(app_server.url)
    assert status == 200 and "<html" in page
    config = config_text(app_server)
    assert "Vietnam–UK cooperation against human trafficking" in config
    deadline = time.monotonic() + 120  # the status line is filled in once the index is ready
    while "6 articles, 2022–2025, from " not in app_server.output():
        assert time.monotonic() < deadline, app_server.output()[-2000:]
        time.sleep(0.5)


@pytest.mark.parametrize(
    "path",
    [
        "gradio_api/file=/etc/passwd",
        "gradio_api/file=../../etc/passwd",
        "gradio_api/file=..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "gradio_api/file=%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "gradio_api/file=%2E%2E%2F%2e%2E%2F%2E%2e%2Fetc%2Fpasswd",
        "gradio_api/file=%2Fetc%2Fpasswd",
        "gradio_api/file=/ETC/PASSWD",
        "gradio_api/File=/etc/passwd",
        "GRADIO_API/file=/etc/passwd",
        "gradio_api/file=/./etc/./passwd",
        "gradio_api/file=//etc//passwd",
        "file=/etc/passwd",
        "gradio_api/file=/proc/self/environ",
        "static/../../../../etc/passwd",
        "assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
    ],
)
def test_no_path_outside_the_app_is_served(app_server: AppServer, path: str) -> None:
    status, body = http_get(app_server.url + path)
    assert not (status == 200 and ("root:" in body or "PATH=" in body)), (status, body[:200])


def test_corpus_and_index_files_are_not_served(app_server: AppServer) -> None:
    for f in (app_server.corpus / "metadata.json", ROOT / "app.py", ROOT / "pyproject.toml"):
        status, body = http_get(f"{app_server.url}gradio_api/file={f}")
        assert status != 200, (f, body[:200])


def test_oversized_upload_is_refused_and_not_kept(app_server: AppServer) -> None:
    import httpx

    before = set(app_server.upload_dir.rglob("*")) if app_server.upload_dir.exists() else set()
    big = b'{"question": "x"}\n' * (6 * 1024 * 1024 // 18)
    resp = httpx.post(
        app_server.url + "gradio_api/upload",
        files={"files": ("big.jsonl", big, "application/octet-stream")},
        timeout=60,
    )
    assert resp.status_code == 413
    after = set(app_server.upload_dir.rglob("*")) if app_server.upload_dir.exists() else set()
    assert not [p for p in after - before if p.is_file()]


# --- launch policy, startup errors, shutdown --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--host", "0.0.0.0"], {}),
        (["--host", "::"], {}),
        (["--share"], {}),
        ([], {"GRADIO_SERVER_NAME": "0.0.0.0"}),
        (["--host", "0.0.0.0", "--auth", "nopassword"], {}),
    ],
)
def test_refuses_to_expose_without_auth(tmp_path: Path, args: list[str], env: dict) -> None:
    full_env = {**app_env(tmp_path), **env}
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--port", str(free_port()), *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "auth" in lines[0], lines
    assert time.monotonic() - t0 < 60  # refused before any model loads


def test_missing_index_page_explains_the_fix_then_shuts_down_cleanly(tmp_path: Path) -> None:
    """No index and no corpus to build it from: the page and the chat give the exact command;
    auth is enforced; SIGTERM exits 0."""
    from gradio_client import Client

    from qa.ui import md_unescape

    missing = tmp_path / "no-index"
    env = {**app_env(tmp_path), "QA_CORPUS": str(tmp_path / "no-corpus"), "QA_BACKEND": "fake"}
    server = start_app(tmp_path, "--index", str(missing), "--auth", "analyst:s3cret", env=env)
    try:
        status, _ = http_get(server.url + "config")
        assert status == 401  # nothing without logging in
        client = Client(server.url, auth=("analyst", "s3cret"), verbose=False)
        deadline = time.monotonic() + 60
        while True:
            reply = md_unescape(client.predict("Who visited London?", api_name="/chat"))
            if "still being prepared" not in reply or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert reply.startswith(f"⚠️ No index at '{missing}' and no corpus at "), reply
        assert f"`qa index --corpus CORPUS_FOLDER --index {missing}`" in reply
        assert "Traceback" not in server.output()
    finally:
        code = server.stop()
    assert code == 0, server.output()[-2000:]
    assert not port_open(server.port)
    assert "Traceback" not in server.output()


def test_health_of_shared_app_log(app_server: AppServer) -> None:
    """The terminal shows the status line and no traceback so far."""
    out = app_server.output()
    assert "6 articles, 2022–2025" in out and "Running on local URL" in out
    assert "WARNING" not in out
    assert "Traceback" not in out, out[-3000:]
    json.dumps(out[-100:])

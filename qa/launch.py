"""The app's launch policy: which port, which login, and whether the exposure asked for is
safe. Pure and gradio-free, so refusing to serve is instant and testable without a server.

Standing rule: the app binds to loopback by default, and opens to a network or a public
gradio.live link only with a login. ``RequestGuard`` (a plain ASGI middleware) refuses foreign
``Host`` names on loopback, oversized bodies and upload floods before Gradio sees them.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


class LaunchRefused(ValueError):
    """Serving as asked is invalid or unsafe; the message is the one line to print."""


@dataclass(frozen=True)
class LaunchPlan:
    """Validated serving options."""

    host: str
    port: int
    auth: tuple[str, str] | None
    share: bool


def parse_port(value: str | int) -> int:
    """A TCP port number from ``--port``; raises :class:`LaunchRefused` otherwise."""
    try:
        port = int(value)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise LaunchRefused(f"error: port {value!r} is not a port number (1-65535).") from None
    return port


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:pass"`` -> ``("user", "pass")`` (both trimmed); ``None``/``""`` -> ``None``;
    else ValueError (also for a password of spaces only)."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    # Both sides trimmed the same way: QA_AUTH=$'user:secret\n' (a heredoc, an env file) kept
    # the newline in the password, and "user:   " was a password nobody could type knowingly.
    user, password = user.strip(), password.strip()
    if not sep or not user or not password:
        raise ValueError(
            "--auth / QA_AUTH must be user:password, both non-empty (spaces around them are "
            "ignored)."
        )
    return user, password


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    h = host.strip().strip("[]").lower()
    if h in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def exposure_error(host: str, share: bool, auth: tuple[str, str] | None) -> str:
    """Why serving as asked would be unsafe (``""`` if it is fine)."""
    if auth is not None:
        return ""
    if share:
        return (
            "error: --share publishes the app on a public gradio.live link; it needs --auth "
            "user:pass (or QA_AUTH)."
        )
    if not is_loopback(host):
        return (
            f"error: binding {host} exposes the app beyond this machine; it needs --auth "
            "user:pass (or QA_AUTH), or use --host 127.0.0.1."
        )
    return ""


def plan(host: str, port: str | int, auth: str | None, share: bool) -> LaunchPlan:
    """Check the port, the login and the exposure, in that order; raises
    :class:`LaunchRefused` with the one-line message for the first problem."""
    port_number = parse_port(port)
    try:
        login = parse_auth(auth)
    except ValueError as exc:
        raise LaunchRefused(f"error: {exc}") from None
    refusal = exposure_error(host, share, login)
    if refusal:
        raise LaunchRefused(refusal)
    return LaunchPlan(host, port_number, login, bool(share))


# --- the request guard (an ASGI middleware around the Gradio app) -----------------------------

# A chat request is a question (at most 2,000 characters) and the conversation so far, which
# the chat trims to its last turns (qa.questions.MAX_HISTORY_MESSAGES of at most 1,000
# characters each, though the Chatbot sends the full replies it shows): 1 MiB leaves room
# for a long session of Markdown replies while a 50 MB question is refused unread.
MAX_REQUEST_BYTES = 1024 * 1024
# An upload is one question file of at most qa.ui.MAX_UPLOAD_BYTES plus its multipart framing.
UPLOAD_FRAMING_BYTES = 64 * 1024
# Uploads a client may start per minute: a person evaluating sets uploads a file or two a
# minute; twenty 4.9 MB files in two seconds is a disk-filling loop.
UPLOADS_PER_MINUTE = 10
UPLOAD_WINDOW_SECONDS = 60.0


def host_name(header: str) -> str:
    """The host part of a ``Host`` header: ``"[::1]:7860"`` -> ``"::1"``, lower case."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1 : h.find("]")] if "]" in h else h[1:]
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


class RequestGuard:
    """Refuse, before the app does any work: a ``Host`` that is not a loopback name while the
    app is bound to loopback (DNS rebinding: a web page whose domain now resolves to
    127.0.0.1 must not reach the app), a body over the limit (413), and uploads beyond
    ``UPLOADS_PER_MINUTE`` from one client (429)."""

    def __init__(
        self,
        app: Any,
        *,
        loopback_only: bool,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_upload_bytes: int = 5 * 1024 * 1024,
        uploads_per_minute: int = UPLOADS_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.loopback_only = loopback_only
        self.max_request_bytes = max_request_bytes
        self.max_upload_bytes = max_upload_bytes + UPLOAD_FRAMING_BYTES
        self.uploads_per_minute = uploads_per_minute
        self.clock = clock
        self._uploads: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.loopback_only and not is_loopback(host_name(headers.get("host", ""))):
            return await _refuse(scope, send, 403, "This app answers only on localhost.")
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = scope.get("path", "").rstrip("/").endswith("/upload")
        limit = self.max_upload_bytes if upload else self.max_request_bytes
        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            return await _refuse(scope, send, 400, "Bad Content-Length.")
        if declared > limit:
            return await _refuse(scope, send, 413, f"Request body over {limit:,} bytes.")
        if upload and scope.get("method") == "POST" and not self._allow_upload(scope):
            return await _refuse(
                scope, send, 429, f"Over {self.uploads_per_minute} uploads a minute; wait a minute."
            )
        return await self.app(scope, _capped(receive, limit), send)

    def _allow_upload(self, scope: dict) -> bool:
        client = (scope.get("client") or ("?", 0))[0]
        now = self.clock()
        with self._lock:
            times = self._uploads.setdefault(client, deque())
            while times and now - times[0] > UPLOAD_WINDOW_SECONDS:
                times.popleft()
            if len(times) >= self.uploads_per_minute:
                return False
            times.append(now)
            return True


def _capped(receive: Callable, limit: int) -> Callable:
    """``receive`` that reports a disconnect once a body without a Content-Length passes
    ``limit`` bytes (the app stops reading; nothing more is buffered)."""
    seen = 0

    async def wrapped() -> dict:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return wrapped


async def _refuse(scope: dict, send: Callable, status: int, text: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = text.encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})

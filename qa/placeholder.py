"""A page served in the first seconds of ``app.py``, before Gradio is imported.

Importing Gradio takes 4-7 s on a busy two-core machine; a browser opened at once should see
the app starting (and the index build's progress), not "connection refused". This stdlib
server answers on the app's port until Gradio takes it over; its page polls ``/config`` and
reloads once the real app answers there. It shows only the start-up stage, never a document.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REFRESH_MS = 700  # how often the page asks whether the app is up

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Starting · Vietnam–UK Q&amp;A</title>
<style>
body {{font-family: system-ui, sans-serif; margin: 2rem; color: #111827; background: #fff;}}
@media (prefers-color-scheme: dark) {{body {{color: #f3f4f6; background: #0b0f19;}}}}
progress {{width: min(420px, 90%); height: 12px;}}
.hint {{color: inherit; opacity: .85; font-size: .9rem;}}
</style></head><body><main>
<h1 style="font-size:1.3rem">Vietnam–UK cooperation against human trafficking · article Q&amp;A</h1>
<p role="status" aria-live="polite"><strong>Starting the app…</strong>
<span id="stage">{stage}</span></p>
<progress aria-label="Starting"></progress>
<p class="hint">This page opens the chat by itself in a few seconds.</p>
</main><script>
setInterval(() => {{
  fetch('config', {{cache: 'no-store'}}).then((r) => {{
    if (r.status === 200 || r.status === 401) location.reload();
  }}).catch(() => {{}});
  fetch('startup.json', {{cache: 'no-store'}}).then((r) => r.json()).then((p) => {{
    document.getElementById('stage').textContent = p.stage;
    const bar = document.querySelector('progress');
    if (p.total) {{ bar.max = p.total; bar.value = p.done; }}
  }}).catch(() => {{}});
}}, {refresh});
</script></body></html>"""


class Placeholder:
    """Serve the starting page on ``host:port`` until :meth:`stop`."""

    def __init__(self, host: str, port: int, stage: Callable[[], tuple[str, int, int]]) -> None:
        self.stage = stage  # () -> (stage in words, texts embedded, texts in all)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path = self.path.split("?", 1)[0]
                if path == "/startup.json":
                    name, done, total = owner.stage()
                    self._send(json.dumps({"stage": name, "done": done, "total": total}),
                               "application/json")  # fmt: skip
                    return
                if path not in ("/", ""):
                    self.send_response(503)  # API and assets: not yet
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(PAGE.format(stage=html.escape(owner.stage()[0]), refresh=REFRESH_MS))

            def _send(self, body: str, kind: str = "text/html") -> None:
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # the terminal is for the app's own lines

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Placeholder:
        """Begin serving in a daemon thread; returns ``self``."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port for the real app."""
        self.server.shutdown()
        self.server.server_close()

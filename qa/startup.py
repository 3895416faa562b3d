"""Opening the app's index in the background, with progress a page can show.

The web app serves its page at once and builds or loads the index in a thread: a first run
exports the model and embeds the corpus (tens of seconds on two cores), and a user should see
that happen in the page, not a refused connection. :class:`Startup` holds what the page needs:
the stage, the counts, the index when ready, or the one-line error with its fix.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import IndexCorruptError, IndexUnavailableError, QAError
from qa.opening import open_for, resolve_paths

if TYPE_CHECKING:
    from qa.index import Index

log = logging.getLogger("qa.app")

WARM_QUESTION = "Which agencies did Le Quoc Hung visit?"  # loads the model and answerer caches


@dataclass(frozen=True)
class Progress:
    """Where the start is: ``stage`` in words, ``done``/``total`` texts embedded (0/0 when the
    stage has no count), ``ready`` once the index answers, ``error`` (with its fix) if it failed."""

    stage: str = "Starting"
    done: int = 0
    total: int = 0
    ready: bool = False
    error: str = ""
    seconds: float = 0.0

    @property
    def fraction(self) -> float | None:
        """Share of the embedding done, or ``None`` when the stage has no count."""
        return self.done / self.total if self.total else None


def missing_index(index_dir: Path) -> bool:
    """Whether ``index_dir`` holds no index at all (as opposed to a damaged one)."""
    from qa.store import current_version

    try:
        current_version(index_dir)
    except IndexCorruptError:
        return False
    except IndexUnavailableError:
        return True
    return False


def build_command(corpus: Path, index_dir: Path) -> str:
    """The exact ``qa index`` command that builds ``index_dir`` from ``corpus``."""
    return f"qa index --corpus {corpus} --index {index_dir}"


class Startup:
    """Opens (building if needed) the index of ``--corpus``/``--index`` in a daemon thread.

    With ``--index DIR`` alone and nothing at DIR, the index is built there from the default
    corpus (the app knows it); with no corpus either, the error names the exact command.
    """

    def __init__(self, corpus: str | None, index: str | None, *, warm: bool = True) -> None:
        self.corpus_arg, self.index_arg = corpus, index
        self.corpus, self.index_dir = resolve_paths(corpus, index)
        self.warm = warm
        self._lock = threading.Lock()
        self._progress = Progress()
        self._index: Index | None = None
        self._thread: threading.Thread | None = None
        self._t0 = time.perf_counter()

    # --- what the page reads -----------------------------------------------------------------

    @property
    def progress(self) -> Progress:
        """A consistent snapshot of the start's progress."""
        with self._lock:
            return replace(self._progress, seconds=round(time.perf_counter() - self._t0, 1))

    @property
    def index(self) -> Index | None:
        """The index once it is ready, else ``None``."""
        with self._lock:
            return self._index if self._progress.ready else None

    @property
    def error(self) -> str:
        """The startup error (with its fix), ``""`` while all is well."""
        return self.progress.error

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._progress = replace(self._progress, **changes)

    # --- the work ----------------------------------------------------------------------------

    def start(self) -> Startup:
        """Begin opening the index in the background (once); returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="qa-startup", daemon=True)
            self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> Progress:
        """Block until the start ends (or ``timeout``); the progress then."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.progress

    def run(self) -> None:
        """Open the index, warm it up, and record the outcome (never raises)."""
        try:
            index = self._open()
            if self.warm:
                self._set(stage="Warming up the answerer", done=0, total=0)
                index.answer(WARM_QUESTION)
        except QAError as exc:
            log.error("%s", exc)
            self._set(stage="Failed", error=str(exc))
            return
        except Exception as exc:  # a bug must still reach the page, not only the log
            log.exception("opening the index failed")
            self._set(stage="Failed", error=f"Opening the index failed ({type(exc).__name__}: "
                      f"{exc}). The details are in the server log.")  # fmt: skip
            return
        with self._lock:
            self._index = index
            self._progress = replace(self._progress, stage="Ready", ready=True)

    def _on_embed(self, done: int, total: int) -> None:
        self._set(stage="Embedding the articles' sentences", done=done, total=total)

    def _encoder(self) -> Any:
        """The encoder, loaded now (a first run exports the model: the longest stage)."""
        from qa.embedding import get_encoder

        # The machine's one ONNX export (`make run` makes it at setup: python -m qa.warm).
        self._set(stage="Loading the language model (exported once per machine)")
        enc = get_encoder(None, None)
        enc.encode(["warm up"], batch_size=1)
        self._set(stage="Reading the articles and the index")
        return enc

    def _open(self) -> Index:
        from qa.index import open_index

        self._set(stage="Loading the index")
        if self.index_arg and not self.corpus_arg and missing_index(self.index_dir):
            if not self.corpus.is_dir():
                raise QAError(
                    f"No index at {str(self.index_dir)!r} and no corpus at "
                    f"{str(self.corpus)!r} to build it from. Fix: run "
                    f"`{build_command(Path('CORPUS_FOLDER'), self.index_dir)}` with your "
                    "articles' folder, or start the app with --corpus."
                )
            log.info("no index at %s: building it from %s", self.index_dir, self.corpus)
            enc = self._encoder()
            return open_index(self.corpus, self.index_dir, encoder=enc, progress=self._on_embed)
        if self.corpus_arg or not self.index_arg:
            enc = self._encoder()
            return open_index(self.corpus, self.index_dir, encoder=enc, progress=self._on_embed)
        return open_for(self.corpus_arg, self.index_arg)

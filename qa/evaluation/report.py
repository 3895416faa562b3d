"""The report: :class:`EvalReport` with its writers (JSON, CSV, Markdown, PNG), reading a
written report back, and comparing two runs."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import QAError, QuestionSetError
from qa.evaluation.charts import draw
from qa.evaluation.scoring import (
    COUNT_KEYS,
    KIND_METRICS,
    METRIC_GROUPS,
    METRIC_KEYS,
    ROW_METRICS,
    aggregate,
    aggregate_by_kind,
    failures,
)

# --- the report -------------------------------------------------------------------------------


def format_value(key: str, value: Any) -> str:
    """A metric value as shown in tables: counts as integers, latencies in ms, rates to 3
    places, undefined as ``n/a``."""
    if value is None:
        return "n/a"
    if key in COUNT_KEYS:
        return str(int(value))
    if key.endswith("_ms"):
        return f"{float(value):.1f}"
    return f"{float(value):.3f}"


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _md_cell(value: Any, limit: int = 0) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def _short_answer(row: dict[str, Any]) -> str:
    # The quoted sentences read better in a table than the full text with its source list.
    sentences = row.get("answer_sentences") or []
    text = " ".join(sentences) if sentences else str(row.get("answer", ""))
    return f"{row['short']} — {text}" if row.get("short") else text


def _md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return lines


CSV_COLUMNS = (
    "id",
    "kind",
    "question",
    "history",
    "answerable",
    "gold_answers",
    "evidence",
    "sources",
    "answer",
    "answer_sentences",
    "short",
    "items",
    "predicted_answerable",
    "declined",
    "confidence",
    "query",
    "rewritten",
    "citations",
    "retrieved",
    "rank",
    *ROW_METRICS,
    "latency_ms",
)


def _csv_value(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if key == "citations":
        return " | ".join(f"{c['doc_id']}#{c['paragraph']}" for c in value)
    if key == "retrieved":
        return " | ".join(
            f"{'*' if p.get('relevant') else ''}{p['doc_id']}#{p['paragraph']} ({p['score']:.4f})"
            for p in value
        )
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


@dataclass(frozen=True)
class EvalReport:
    """The result of :func:`evaluate`: overall metrics, metrics per kind, one row per question."""

    metrics: dict[str, Any]
    by_kind: dict[str, dict[str, Any]]
    rows: list[dict[str, Any]]
    k: int = 5

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]], k: int = 5) -> EvalReport:
        """A report whose metrics are aggregated from ``rows``."""
        rows = list(rows)
        return cls(aggregate(rows), aggregate_by_kind(rows), rows, k)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        """Inverse of :meth:`to_dict` (what :meth:`to_json` writes)."""
        return cls(dict(data["metrics"]), dict(data.get("by_kind", {})), list(data["questions"]))

    @classmethod
    def load(cls, path: str | os.PathLike) -> EvalReport:
        """Read a report written by :meth:`to_json`."""
        return cls.from_dict(read_report(path))

    def to_dict(self) -> dict[str, Any]:
        """``{"metrics": ..., "by_kind": ..., "questions": [...rows]}``."""
        return {"metrics": self.metrics, "by_kind": self.by_kind, "questions": self.rows}

    def to_json(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as indented UTF-8 JSON."""
        Path(path).write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    def to_csv(self, path: str | os.PathLike) -> None:
        """One row per question; lists are joined with `` | ``, relevant passages marked ``*``."""
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for row in self.rows:
                writer.writerow([_csv_value(c, row.get(c)) for c in CSV_COLUMNS])

    def summary_table(self) -> str:
        """The overall metrics as an aligned plain-text table for the terminal."""
        rows = [
            (key, format_value(key, self.metrics.get(key)))
            for _, keys in METRIC_GROUPS
            for key in keys
            if key in self.metrics
        ]
        extra = [
            (key, format_value(key, value))
            for key, value in self.metrics.items()
            if key not in METRIC_KEYS
        ]
        return _text_table(("metric", "value"), rows + extra)

    def markdown(self) -> str:
        """The Markdown report: summary, per-kind table, then the questions, failures first."""
        lines = ["# Evaluation report", ""]
        lines.append(f"{len(self.rows)} questions; answers from the top {self.k} passages.")
        lines += ["", "## Summary", ""]
        lines += _md_table(
            ("metric", "value"),
            ((key, format_value(key, self.metrics.get(key))) for key in METRIC_KEYS),
        )
        if self.by_kind:
            lines += ["", "## By kind", ""]
            keys = ("n", *KIND_METRICS)
            lines += _md_table(
                ("kind", *keys),
                (
                    (kind, *(format_value(key, m.get(key)) for key in keys))
                    for kind, m in self.by_kind.items()
                ),
            )
        failed = [(r, failures(r)) for r in self.rows]
        ordered = [x for x in failed if x[1]] + [x for x in failed if not x[1]]
        n_failed = sum(1 for _, f in failed if f)
        lines += ["", f"## Questions ({n_failed} failing, listed first)", ""]
        lines += _md_table(
            ("status", "id", "kind", "question", "rank", "answer", "why"),
            (
                (
                    "FAIL" if why else "ok",
                    r.get("id") or "",
                    r.get("kind") or "",
                    _md_cell(r["question"], 120),
                    r.get("rank") if r.get("rank") is not None else "",
                    "(declined)" if r["declined"] else _md_cell(_short_answer(r), 160),
                    "; ".join(why),
                )
                for r, why in ordered
            ),
        )
        return "\n".join(lines) + "\n"

    def to_markdown(self, path: str | os.PathLike) -> None:
        """Write :meth:`markdown` to ``path``."""
        Path(path).write_text(self.markdown(), encoding="utf-8")

    def to_png(self, path: str | os.PathLike) -> None:
        """Save the hit@k and per-kind charts as a PNG."""
        draw(self.to_dict(), path)

    def write(
        self,
        *,
        json: str | os.PathLike | None = None,
        csv: str | os.PathLike | None = None,
        markdown: str | os.PathLike | None = None,
        plot: str | os.PathLike | None = None,
    ) -> list[str | os.PathLike]:
        """Write each report that has a path, in this order; the paths written, as given.

        An unwritable path raises :class:`QAError` naming it (the reports before it are kept).
        """
        written: list[str | os.PathLike] = []
        for path, writer in (
            (json, self.to_json),
            (csv, self.to_csv),
            (markdown, self.to_markdown),
            (plot, self.to_png),
        ):
            if not path:
                continue
            try:
                writer(path)
            except OSError as exc:
                raise QAError(
                    f"Cannot write {str(path)!r}: {exc.strerror or exc}. Fix: pick a writable path."
                ) from exc
            written.append(path)
        return written


def read_report(source: str | os.PathLike | dict[str, Any] | EvalReport) -> dict[str, Any]:
    """A report as the dict :meth:`EvalReport.to_json` writes, from a path, dict or report."""
    if isinstance(source, EvalReport):
        return source.to_dict()
    if isinstance(source, dict):
        data = source
    else:
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise QuestionSetError(
                f"Report {str(source)!r} does not exist. Fix: pass a file written by --json."
            ) from None
        except ValueError as exc:
            raise QuestionSetError(
                f"Report {str(source)!r} is not valid JSON ({exc}). "
                "Fix: pass a file written by --json."
            ) from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise QuestionSetError(
            "The old report has no 'metrics' object. Fix: pass a file written by `qa eval --json`."
        )
    data.setdefault("questions", [])
    return data


def plot(report: EvalReport | dict[str, Any] | str | os.PathLike, path: str | os.PathLike) -> None:
    """Save a PNG: hit@k against k (1..10), overall and per kind, and each metric by kind."""
    draw(read_report(report), path)


# --- comparing --------------------------------------------------------------------------------


def _row_key(row: dict[str, Any]) -> tuple[str, ...]:
    if row.get("id") is not None:
        return ("id", str(row["id"]))
    return ("question", row.get("question", ""), *row.get("history", []))


def _label(row: dict[str, Any], width: int = 90) -> str:
    text = " ".join(str(row.get("question", "")).split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f"[{row['id']}] {text}" if row.get("id") is not None else text


def _flips(
    old_rows: dict[tuple[str, ...], dict[str, Any]],
    new_rows: Sequence[dict[str, Any]],
    key: str,
) -> tuple[list[str], list[str]]:
    lost, gained = [], []
    for row in new_rows:
        before = old_rows.get(_row_key(row))
        if before is None:
            continue
        a, b = before.get(key), row.get(key)
        if a is None or b is None or bool(a) == bool(b):
            continue
        (lost if a else gained).append(_label(row))
    return lost, gained


def compare(
    old: str | os.PathLike | dict[str, Any] | EvalReport,
    new: str | os.PathLike | dict[str, Any] | EvalReport,
) -> str:
    """Old and new metrics side by side with deltas, then the questions (matched by id, else
    by question text and history) whose hit@5 or answer containment flipped."""
    old_d, new_d = read_report(old), read_report(new)
    om, nm = old_d["metrics"], new_d["metrics"]
    keys = [k for k in METRIC_KEYS if k in om or k in nm]
    keys += [k for k in nm if k not in keys] + [k for k in om if k not in keys and k not in nm]
    table = []
    for key in keys:
        a, b = om.get(key), nm.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            delta = b - a
            if key in COUNT_KEYS:
                d = f"{int(delta):+d}"
            elif key.endswith("_ms"):
                d = f"{delta:+.1f}"
            else:
                d = f"{delta:+.3f}"
        else:
            d = "n/a"
        table.append((key, format_value(key, a), format_value(key, b), d))
    out = [_text_table(("metric", "old", "new", "delta"), table)]

    old_rows = {_row_key(r): r for r in old_d["questions"]}
    new_rows = new_d["questions"]
    new_keys = {_row_key(r) for r in new_rows}
    for key, title in (("hit@5", "hit@5"), ("answer_containment", "answer containment")):
        lost, gained = _flips(old_rows, new_rows, key)
        out.append("")
        out.append(f"{title} flips: {len(lost)} hit -> miss, {len(gained)} miss -> hit")
        out += [f"  hit -> miss  {label}" for label in lost]
        out += [f"  miss -> hit  {label}" for label in gained]
    only_old = sum(1 for k in old_rows if k not in new_keys)
    only_new = sum(1 for k in new_keys if k not in old_rows)
    if only_old or only_new:
        out.append("")
        out.append(f"unmatched questions: {only_old} only in old, {only_new} only in new")
    return "\n".join(out)

"""The plot: hit@k against k and each metric by kind, as a PNG (matplotlib loads here only
when a plot is drawn)."""

from __future__ import annotations

import os
from typing import Any

from qa.evaluation.scoring import KIND_METRICS, RETRIEVAL_DEPTH, hit_curve


def draw(data: dict[str, Any], path: str | os.PathLike) -> None:
    """Save a PNG of a report dict (``metrics``, ``by_kind``, ``questions``): hit@k against k
    (1..10), overall and per kind, and each metric by kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = data["questions"]
    by_kind = data.get("by_kind") or {}
    ks = list(range(1, RETRIEVAL_DEPTH + 1))
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    try:
        curve = hit_curve(rows)
        if curve[0] is not None:
            left.plot(ks, curve, marker="o", linewidth=2.5, color="black", label="all")
        kinds = sorted({str(r["kind"]) for r in rows if r.get("kind") is not None})
        for kind in kinds:
            kcurve = hit_curve([r for r in rows if r.get("kind") == kind])
            if kcurve[0] is not None:
                left.plot(ks, kcurve, marker=".", linewidth=1, alpha=0.7, label=kind)
        left.set(xlabel="k", ylabel="hit@k", title="Retrieval hit@k", ylim=(0, 1.02), xticks=ks)
        left.grid(alpha=0.3)
        if left.get_legend_handles_labels()[0]:
            left.legend(fontsize=8)

        groups = by_kind or {"all": data["metrics"]}
        names = list(groups)
        width = 0.8 / max(1, len(names))
        xs = range(len(KIND_METRICS))
        for i, name in enumerate(names):
            vals = [groups[name].get(key) for key in KIND_METRICS]
            right.bar(
                [x + i * width for x in xs],
                [v if v is not None else 0.0 for v in vals],
                width=width,
                label=name,
            )
        right.set_xticks([x + width * (len(names) - 1) / 2 for x in xs])
        right.set_xticklabels(KIND_METRICS, rotation=35, ha="right", fontsize=8)
        right.set(ylim=(0, 1.02), title="Metrics by kind (n/a drawn as 0)")
        right.grid(axis="y", alpha=0.3)
        right.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


# The few per-kind metrics a reader of the web report compares, with their plain names:
# did retrieval find the passage, does the answer hold the expected text, and are the
# questions the articles cannot answer declined.
GRID_METRICS: tuple[tuple[str, str], ...] = (
    ("hit@5", "Passage found in the top 5"),
    ("answer_containment", "Answer holds the expected text"),
    ("refusal_recall", "Unanswerable ones declined"),
)


def draw_grid(
    data: dict[str, Any],
    path: str | os.PathLike,
    metrics: tuple[tuple[str, str], ...] = GRID_METRICS,
) -> None:
    """Save a PNG of small multiples: one panel per metric, one labelled bar per kind (and
    "all"), the value written at the bar's end; a metric undefined for a kind reads "n/a"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_kind = dict(sorted((data.get("by_kind") or {}).items()))
    groups = {"all questions": data["metrics"], **by_kind}
    names = list(groups)
    height = 1.2 + 0.32 * len(names)
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), height), sharey=True)
    axes = list(axes) if len(metrics) > 1 else [axes]
    try:
        ys = list(range(len(names)))[::-1]
        for ax, (key, label) in zip(axes, metrics):
            vals = [groups[n].get(key) for n in names]
            colors = ["#1f2937" if n == "all questions" else "#2563eb" for n in names]
            ax.barh(ys, [v or 0.0 for v in vals], color=colors, height=0.62)
            for y, v in zip(ys, vals):
                text = "n/a" if v is None else f"{v:.2f}"
                ax.text((v or 0.0) + 0.02, y, text, va="center", fontsize=9, color="#111827")
            ax.set_xlim(0, 1.18)
            ax.set_xticks([0, 0.5, 1])
            ax.set_title(f"{label}\n({key})", fontsize=10)
            ax.grid(axis="x", alpha=0.3)
            ax.tick_params(axis="y", length=0)
        axes[0].set_yticks(ys)
        axes[0].set_yticklabels(names, fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)

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

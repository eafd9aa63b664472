"""Paper-style tables (Markdown, LaTeX) and plots (matplotlib, Agg backend)."""

from __future__ import annotations

import numpy as np
import pandas as pd

TABLE_METRICS = ["hits@1", "hits@10", "mrr", "ndcg@10", "recall@10", "map"]
LABELS = {"hits@1": "Hits@1", "hits@5": "Hits@5", "hits@10": "Hits@10", "mrr": "MRR",
          "ndcg@10": "nDCG@10", "recall@10": "R@10", "map": "MAP"}


def _cells(summary: pd.DataFrame, sig: pd.DataFrame, metrics: list[str], alpha: float):
    """(approach, metric) -> (value text, is_best, is_significant)."""
    marks = {}
    if not sig.empty:
        for r in sig.itertuples(index=False):
            marks[(r.approach, r.metric)] = r.p_perm_holm < alpha
    cells = {}
    for metric in metrics:
        best = summary[metric].max()
        for r in summary.to_dict("records"):
            value, lo, hi = r[metric], r[f"{metric}_ci_low"], r[f"{metric}_ci_high"]
            text = f"{value:.3f} [{lo:.3f}, {hi:.3f}]"
            cells[(r["approach"], metric)] = (text, round(value, 3) == round(best, 3),
                                              marks.get((r["approach"], metric), False))
    return cells


def paper_tables(summary: pd.DataFrame, sig: pd.DataFrame, baseline: str,
                 gains: dict, alpha: float = 0.05) -> tuple[str, str]:
    """Markdown and LaTeX tables: mean [95% CI]; best in bold; † significantly different
    from the baseline."""
    metrics = [m for m in TABLE_METRICS if m in summary.columns]
    cells = _cells(summary, sig, metrics, alpha)
    note = (f"Mean over seeds and queries [bootstrap 95% CI over (seed, query)]; best in bold; "
            f"† differs from {baseline} at p < {alpha} (two-sided paired randomization test, "
            f"Holm-corrected; direction and p-values in significance.csv). nDCG "
            f"gains E {gains['E']}, S {gains['S']}, C {gains['C']}, I {gains['I']} (ESCI paper; "
            f"the official esci-data trec_eval command swaps S and C).")
    md = ["| approach | " + " | ".join(LABELS[m] for m in metrics) + " |",
          "|---|" + "---|" * len(metrics)]
    tex = [r"\begin{tabular}{l" + "r" * len(metrics) + "}", r"\toprule",
           "Approach & " + " & ".join(LABELS[m].replace("@", "@") for m in metrics)
           + r" \\", r"\midrule"]
    for approach in summary["approach"]:
        md_row, tex_row = [], []
        for m in metrics:
            text, best, significant = cells[(approach, m)]
            dag_md, dag_tex = ("†", r"$^\dagger$") if significant else ("", "")
            md_row.append(f"**{text}**{dag_md}" if best else f"{text}{dag_md}")
            value, ci = text.split(" ", 1)
            tex_value = rf"\textbf{{{value}}}" if best else value
            tex_row.append(f"{tex_value}{dag_tex} {{\\scriptsize {ci}}}")
        md.append(f"| {approach} | " + " | ".join(md_row) + " |")
        tex.append(approach.replace("_", r"\_") + " & " + " & ".join(tex_row) + r" \\")
    tex += [r"\bottomrule", r"\end{tabular}", f"% {note}"]
    return "\n".join(md) + f"\n\n{note}\n", "\n".join(tex) + "\n"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "shopbench"
    return plt


def _save(fig, path: str, dpi: int) -> None:
    from .files import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", metadata={"Software": None})


def plot_metrics(summary: pd.DataFrame, path: str, dpi: int = 120) -> None:
    """Grouped bars: each metric by approach, with 95% CI error bars."""
    plt = _plt()
    metrics = [m for m in TABLE_METRICS if m in summary.columns]
    fig, ax = plt.subplots(figsize=(1.6 * len(metrics) + 2, 4))
    width = 0.8 / max(1, len(summary))
    x = np.arange(len(metrics))
    for i, r in enumerate(summary.to_dict("records")):
        values = np.array([r[m] for m in metrics])
        err = np.array([[r[m] - r[f"{m}_ci_low"] for m in metrics],
                        [r[f"{m}_ci_high"] - r[m] for m in metrics]])
        ax.bar(x + i * width, values, width, yerr=np.clip(err, 0, None), capsize=3,
               label=r["approach"])
    ax.set_xticks(x + width * (len(summary) - 1) / 2, [LABELS[m] for m in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (95% CI)")
    ax.legend(fontsize=8, ncols=min(4, len(summary)), loc="lower right")
    fig.tight_layout()
    _save(fig, path, dpi)
    plt.close(fig)


#: Heatmaps with more rows than this leave out the per-query labels.
MAX_LABELLED_ROWS = 400


def plot_heatmap(per_query: pd.DataFrame, metric: str, path: str, dpi: int = 120) -> None:
    """Per-query heatmap: (seed, query) rows x approach columns, coloured by ``metric``."""
    plt = _plt()
    wide = per_query.pivot_table(index=["seed", "qid", "query"], columns="approach",
                                 values=metric, aggfunc="first", sort=False)
    wide = wide[list(dict.fromkeys(per_query["approach"]))]
    wide = wide.loc[wide.mean(axis=1).sort_values(kind="stable").index]
    fig, ax = plt.subplots(figsize=(2 + 0.9 * wide.shape[1], min(40, 2 + 0.18 * len(wide))))
    im = ax.imshow(wide.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(wide.shape[1]), wide.columns, rotation=30, ha="right")
    if len(wide) <= MAX_LABELLED_ROWS:
        ax.set_yticks(range(len(wide)), [f"{q[:40]}" for _, _, q in wide.index], fontsize=6)
    else:  # thousands of queries (catalogue protocol): unreadable labels, and slow to lay out
        ax.set_yticks([])
        ax.set_ylabel(f"{len(wide):,} (seed, query) pairs, by mean {metric}")
    fig.colorbar(im, ax=ax, label=LABELS.get(metric, metric))
    fig.tight_layout()
    _save(fig, path, dpi)
    plt.close(fig)


def plot_quality_latency(summary: pd.DataFrame, latency: pd.DataFrame, metric: str, path: str,
                         dpi: int = 120) -> None:
    """Quality (metric) against pipeline p50 latency per query, one point per approach."""
    plt = _plt()
    merged = summary.merge(latency, on="approach")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(merged["p50_ms"], merged[metric])
    for r in merged.to_dict("records"):
        ax.annotate(r["approach"], (r["p50_ms"], r[metric]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("p50 latency per query, ms (log)")
    ax.set_ylabel(LABELS.get(metric, metric))
    fig.tight_layout()
    _save(fig, path, dpi)
    plt.close(fig)

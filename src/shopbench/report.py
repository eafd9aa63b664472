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


def _rst(text: str) -> str:
    """Text for reST: ``@`` escaped, or docutils links "nDCG@10" as an e-mail address."""
    return text.replace("@", "\\@")


def sample_note(n_per_seed: dict[int, int] | None, n_asked: int | None) -> str:
    """The table's sample size, with a warning where fewer queries were evaluated than asked
    for (the notebook's sampling) or where the CIs and tests rest on very few queries."""
    from .stats import FEW_QUERIES

    if not n_per_seed:
        return ""
    counts = list(n_per_seed.values())
    if len(counts) == 1:
        note = f"n = {counts[0]} {'query' if counts[0] == 1 else 'queries'}."
    elif len(set(counts)) == 1:
        note = (f"n = {counts[0]} queries per seed x {len(counts)} seeds "
                f"({sum(counts)} (seed, query) pairs).")
    else:
        per = ", ".join(f"{n} (seed {s})" for s, n in n_per_seed.items())
        note = f"n = {per} queries ({sum(counts)} (seed, query) pairs)."
    if n_asked is not None and min(counts) < n_asked:
        note += (f" Warning: fewer queries than the {n_asked} asked for (sampling.n_queries): "
                 f"the notebook's sampling keeps only the queries with a row among the "
                 f"sampling.n_rows drawn.")
    if sum(counts) < FEW_QUERIES:
        note += (f" Warning: the CIs and tests rest on only {sum(counts)} (seed, query) pairs "
                 f"and say little.")
    return note


def paper_tables(summary: pd.DataFrame, sig: pd.DataFrame, baseline: str,
                 gains: dict, alpha: float = 0.05, n_per_seed: dict[int, int] | None = None,
                 n_asked: int | None = None) -> tuple[str, str, str]:
    """Markdown, LaTeX and reStructuredText (for the report's landing page) tables:
    mean [95% CI]; best in bold; † significantly different from the baseline on that metric
    (every metric shown is tested); the sample size and its warnings in the caption."""
    metrics = [m for m in TABLE_METRICS if m in summary.columns]
    cells = _cells(summary, sig, metrics, alpha)
    tested = set(sig["metric"]) if not sig.empty else set()
    untested = [LABELS[m] for m in metrics if m not in tested]
    if len(summary) < 2:
        dagger = "no approach to test against the baseline."
    else:
        dagger = (f"† differs from {baseline} on that metric at p < {alpha} (two-sided paired "
                  f"randomization test over (seed, query) pairs, Holm-corrected across "
                  f"approaches per metric; direction and p-values in significance.csv)"
                  + (f"; not tested: {', '.join(untested)}." if untested else "."))
    seeds = int(summary["n_seeds"].max()) if "n_seeds" in summary else 1
    ci = ("bootstrap 95% CI over queries, the same as in metrics.csv" if seeds == 1 else
          "bootstrap 95% CI over (seed, query) pairs, queries resampled within each seed")
    note = " ".join(part for part in [
        sample_note(n_per_seed, n_asked),
        f"{'Mean over queries' if seeds == 1 else 'Mean over all (seed, query) pairs'} "
        f"[{ci}]; best in bold; {dagger}",
        f"nDCG gains E {gains['E']}, S {gains['S']}, C {gains['C']}, I {gains['I']} (ESCI "
        f"paper; the official esci-data trec_eval command swaps S and C)."] if part)
    md = ["| approach | " + " | ".join(LABELS[m] for m in metrics) + " |",
          "|---|" + "---|" * len(metrics)]
    tex = [r"\begin{tabular}{l" + "r" * len(metrics) + "}", r"\toprule",
           "Approach & " + " & ".join(LABELS[m].replace("@", "@") for m in metrics)
           + r" \\", r"\midrule"]
    rst = [".. list-table::", "   :header-rows: 1", "",
           "   * - approach"] + [f"     - {_rst(LABELS[m])}" for m in metrics]
    for approach in summary["approach"]:
        md_row, tex_row = [], []
        rst.append(f"   * - {approach}")
        for m in metrics:
            text, best, significant = cells[(approach, m)]
            dag_md, dag_tex = ("†", r"$^\dagger$") if significant else ("", "")
            md_row.append(f"**{text}**{dag_md}" if best else f"{text}{dag_md}")
            value, ci_text = text.split(" ", 1)
            tex_value = rf"\textbf{{{value}}}" if best else value
            tex_row.append(f"{tex_value}{dag_tex} {{\\scriptsize {ci_text}}}")
            rst.append(f"     - **{value}**{dag_md} {ci_text}" if best
                       else f"     - {value}{dag_md} {ci_text}")
        md.append(f"| {approach} | " + " | ".join(md_row) + " |")
        tex.append(approach.replace("_", r"\_") + " & " + " & ".join(tex_row) + r" \\")
    tex += [r"\bottomrule", r"\end{tabular}", f"% {note}"]
    rst += ["", _rst(note)]
    return "\n".join(md) + f"\n\n{note}\n", "\n".join(tex) + "\n", "\n".join(rst) + "\n"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "shopbench"
    return plt


def _save_figure(fig, path: str, dpi: int) -> None:
    import matplotlib.pyplot as plt

    from .files import atomic_path

    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)


def plot_metrics(summary: pd.DataFrame, path: str, dpi: int = 120) -> None:
    _save_figure(metrics_figure(summary), path, dpi)


def approach_colors(n: int) -> list:
    """One distinct colour per approach, the same in every plot: matplotlib's ten default
    colours, or tab20's twenty where there are more approaches (ten would repeat)."""
    import matplotlib

    if n <= 10:
        return [f"C{i}" for i in range(n)]
    cmap = matplotlib.colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]


def metrics_figure(summary: pd.DataFrame):
    """Grouped bars: each metric by approach, with 95% CI error bars; the legend sits above
    the axes, clear of the bars."""
    plt = _plt()
    metrics = [m for m in TABLE_METRICS if m in summary.columns]
    fig, ax = plt.subplots(figsize=(1.6 * len(metrics) + 2, 4.4), layout="constrained")
    width = 0.8 / max(1, len(summary))
    x = np.arange(len(metrics))
    colors = approach_colors(len(summary))
    for i, r in enumerate(summary.to_dict("records")):
        values = np.array([r[m] for m in metrics])
        err = np.array([[r[m] - r[f"{m}_ci_low"] for m in metrics],
                        [r[f"{m}_ci_high"] - r[m] for m in metrics]])
        ax.bar(x + i * width, values, width, yerr=np.clip(err, 0, None), capsize=3,
               label=r["approach"], color=colors[i])
    ax.set_xticks(x + width * (len(summary) - 1) / 2, [LABELS[m] for m in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (95% CI)")
    ax.legend(fontsize=8, ncols=min(6, len(summary)), loc="lower center",
              bbox_to_anchor=(0.5, 1.01), frameon=False)
    return fig


#: Most rows the per-query heatmap draws (half worst, half best) before labels get unreadable.
HEATMAP_ROWS = 200

#: Fonts never used as a fallback: they draw a placeholder box for every character.
_NOT_FALLBACKS = ("last resort",)


def installed_fonts():
    """(family, code points) of the fonts matplotlib can use, lazily: its default sans-serif
    first, then every other installed font file (system fonts included, e.g. Debian's
    fonts-noto-cjk, even when matplotlib's font cache predates them)."""
    from matplotlib import font_manager as fm
    from matplotlib.ft2font import FT2Font

    default = fm.findfont(fm.FontProperties(family=["sans-serif"]))
    known = {f.fname: f.name for f in fm.fontManager.ttflist}
    others = set(known) | set(fm.findSystemFonts()) - {default}
    # regular faces first: a fallback family is then drawn at normal weight
    paths = [default] + sorted(others, key=lambda p: ("regular" not in p.lower(), p))
    for path in paths:
        try:
            font = FT2Font(path)
        except (OSError, RuntimeError):
            continue
        if font.family_name.lower().startswith(_NOT_FALLBACKS):
            continue
        if path not in known:
            fm.fontManager.addfont(path)
            known[path] = font.family_name
        yield known[path], frozenset(font.get_charmap())


def choose_labels(texts: list[str], fallbacks: list[str], fonts) -> tuple[list[str], list[str]]:
    """Font families to draw ``texts`` with and the label for each text.

    ``fonts`` is an iterable of (family, code points), the default font first; it is read
    only as far as needed to cover every character. A text that no font covers is replaced
    by its entry of ``fallbacks`` (e.g. the query id), never drawn as empty boxes.
    """
    fonts = iter(fonts)
    default, chars = next(fonts)
    families = [default]
    missing = {c for t in texts for c in t if not c.isspace() and ord(c) not in chars}
    while missing:
        family, chars = next(fonts, (None, None))
        if family is None:
            break
        covered = {c for c in missing if ord(c) in chars}
        if covered:
            families.append(family)
            missing -= covered
    labels = [fb if any(c in missing for c in t) else t for t, fb in zip(texts, fallbacks)]
    return list(dict.fromkeys(families)), labels


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def heatmap_labels(index: list[tuple], fonts=None) -> tuple[list[str], list[str]]:
    """(families, labels) for (seed, qid, query) rows: the query text (cut to 40 characters),
    prefixed with its seed when there are several seeds, or the query id where no installed
    font has its characters."""
    import logging

    seeds = {seed for seed, _, _ in index}
    texts = [_short(str(q)) for _, _, q in index]
    fallbacks = [f"query id {qid}" for _, qid, _ in index]
    families, labels = choose_labels(texts, fallbacks, installed_fonts() if fonts is None
                                     else fonts)
    n_fallback = sum(label != text for label, text in zip(labels, texts))
    if n_fallback:
        logging.getLogger(__name__).warning(
            "no installed font has the characters of %d query texts: the heatmap shows their "
            "query ids instead (install a font covering them, e.g. Debian's fonts-noto-cjk)",
            n_fallback)
    if len(seeds) > 1:
        labels = [f"s{seed} \u00b7 {label}" for (seed, _, _), label in zip(index, labels)]
    return families, labels


def plot_heatmap(per_query: pd.DataFrame, metric: str, path: str, dpi: int = 120) -> None:
    _save_figure(heatmap_figure(per_query, metric), path, dpi)


def heatmap_figure(per_query: pd.DataFrame, metric: str, fonts=None):
    """Per-query heatmap: (seed, query) rows x approach columns, coloured by ``metric``."""
    plt = _plt()
    wide = per_query.pivot_table(index=["seed", "qid", "query"], columns="approach",
                                 values=metric, aggfunc="first", sort=False)
    wide = wide[list(dict.fromkeys(per_query["approach"]))]
    wide = wide.loc[wide.mean(axis=1).sort_values(kind="stable").index]
    total = len(wide)
    if total > HEATMAP_ROWS:  # e.g. 22,458 queries: the worst and the best, still readable
        half = HEATMAP_ROWS // 2
        wide = pd.concat([wide.iloc[:half], wide.iloc[-half:]])
    families, labels = heatmap_labels(list(wide.index), fonts)
    row_inches = 0.14
    height = 1.8 + row_inches * len(wide)
    fig, ax = plt.subplots(figsize=(5.5 + 0.9 * wide.shape[1], height), layout="constrained")
    im = ax.imshow(wide.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1,
                   interpolation="nearest")
    ax.set_xticks(range(wide.shape[1]), wide.columns, rotation=30, ha="right")
    ax.set_yticks(range(len(wide)), labels, fontsize=6, fontfamily=families)
    ax.set_ylabel("(seed) query, worst first" if len({s for s, _, _ in wide.index}) > 1
                  else "query, worst first")
    if total > len(wide):
        ax.axhline(len(wide) / 2 - 0.5, color="white", linewidth=2)
        ax.set_title(f"the {len(wide) // 2} worst and {len(wide) // 2} best of {total} rows "
                     f"(by mean {LABELS.get(metric, metric)})", fontsize=9)
    fig.colorbar(im, ax=ax, label=LABELS.get(metric, metric), shrink=min(1.0, 5 / height),
                 anchor=(0.0, 1.0))
    return fig


def plot_quality_latency(summary: pd.DataFrame, latency: pd.DataFrame, metric: str, path: str,
                         dpi: int = 120) -> None:
    _save_figure(quality_latency_figure(summary, latency, metric), path, dpi)


def quality_latency_figure(summary: pd.DataFrame, latency: pd.DataFrame, metric: str):
    """Quality (metric, with its 95% CI) against pipeline p50 latency per query (a bar to the
    p95 where latency.csv has it), one point per approach; labels stay inside the axes."""
    plt = _plt()
    merged = summary.merge(latency, on="approach")
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    yerr = np.clip(np.array([merged[metric] - merged[f"{metric}_ci_low"],
                             merged[f"{metric}_ci_high"] - merged[metric]]), 0, None)
    xerr = None
    if "p95_ms" in merged:
        xerr = np.clip(np.array([np.zeros(len(merged)), merged["p95_ms"] - merged["p50_ms"]]),
                       0, None)
    colors = approach_colors(len(merged))  # as in the metrics plot
    labels = []
    for i, r in enumerate(merged.to_dict("records")):
        color = colors[i]
        ax.errorbar([r["p50_ms"]], [r[metric]], yerr=yerr[:, i:i + 1],
                    xerr=None if xerr is None else xerr[:, i:i + 1], fmt="o", capsize=3,
                    elinewidth=1, color=color)
        labels.append(ax.annotate(r["approach"], (r["p50_ms"], r[metric]), fontsize=8,
                                  color=color, xytext=(5, 5), textcoords="offset points",
                                  annotation_clip=False))
    ax.set_xscale("log")
    lo = min(merged["p50_ms"].min(), (merged["p95_ms"] if "p95_ms" in merged
                                      else merged["p50_ms"]).min())
    hi = (merged["p95_ms"] if "p95_ms" in merged else merged["p50_ms"]).max()
    ax.set_xlim(lo / 1.6, hi * 2.5)  # room for the labels right of the rightmost point
    ylo = float(np.nanmin(merged[f"{metric}_ci_low"]))
    yhi = float(np.nanmax(merged[f"{metric}_ci_high"]))
    pad = max(0.02, 0.15 * (yhi - ylo))
    ax.set_ylim(ylo - pad, yhi + pad)
    ax.set_xlabel("latency per query, ms (log): p50, bar to p95" if xerr is not None
                  else "p50 latency per query, ms (log)")
    ax.set_ylabel(f"{LABELS.get(metric, metric)} (95% CI)")
    _separate_labels(fig, labels)
    return fig


def _separate_labels(fig, labels, step: float = 10.0, tries: int = 12) -> None:
    """Move each label up (then down) in steps of ``step`` points from its point until its
    box overlaps no label placed before it: labels of nearby points stay readable."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed = []
    for label in sorted(labels, key=lambda a: a.xy[1]):
        x0, y0 = label.get_position()
        for offset in [0] + [s * k * step for k in range(1, tries) for s in (1, -1)]:
            label.set_position((x0, y0 + offset))
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
        placed.append(label.get_window_extent(renderer))

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


def sample_note(n_per_seed: dict[int, int] | None, n_asked: int | None,
                sampling: list[dict] | None = None) -> str:
    """The table's sample size, with a warning where fewer queries were evaluated than asked
    for, giving its cause from the seeds' sampling records (fewer queries pass the filter, so
    the draw was clamped; or the notebook's sampling drew no row of some queries), or where the
    CIs and tests rest on very few queries."""
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
        causes = []
        clamped = sorted({r["pass_filter"] for r in sampling or [] if r["drawn"] < n_asked})
        if clamped:
            causes.append(f"only {', '.join(map(str, clamped))} queries pass the sampling "
                          f"filter (sampling.on_too_few_queries: clamp)")
        if not sampling or any(r["kept"] < r["drawn"] for r in sampling):
            causes.append("the notebook's sampling keeps only the queries with a row among "
                          "the sampling.n_rows drawn")
        if not causes:
            causes.append("every query asked for was drawn, but not every one was evaluated "
                          "(the seeds' sampling.json and evaluate logs say which)")
        note += (f" Warning: fewer queries than the {n_asked} asked for (sampling.n_queries): "
                 f"{'; '.join(causes)}.")
    if sum(counts) < FEW_QUERIES:
        note += (f" Warning: the CIs and tests rest on only {sum(counts)} (seed, query) pairs "
                 f"and say little.")
    return note


def stand_in_note(stand_ins: dict[str, str] | None) -> str:
    """The caption's warning for approaches whose late-interaction model is a stand-in
    (``stand_ins``: approach -> model)."""
    if not stand_ins:
        return ""
    models = sorted(set(stand_ins.values()))
    return (f"STAND-IN: {', '.join(stand_ins)} use{'s' if len(stand_ins) == 1 else ''} "
            f"{', '.join(models)}, a bi-encoder's token vectors standing in for a "
            f"late-interaction checkpoint (stand_in: true), not a trained ColBERT model; their "
            f"figures measure the pipeline, not ColBERT's quality.")


def paper_tables(summary: pd.DataFrame, sig: pd.DataFrame, baseline: str,
                 gains: dict, alpha: float = 0.05, n_per_seed: dict[int, int] | None = None,
                 n_asked: int | None = None,
                 sampling: list[dict] | None = None,
                 stand_ins: dict[str, str] | None = None) -> tuple[str, str, str]:
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
        stand_in_note(stand_ins),
        sample_note(n_per_seed, n_asked, sampling),
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


def plot_metrics(summary: pd.DataFrame, path: str, dpi: int = 120,
                 name: str | None = None) -> None:
    _save_figure(metrics_figure(summary, name), path, dpi)


def sample_size(summary: pd.DataFrame) -> str:
    """``n = 50 queries`` (one seed) or ``n = 150 (seed, query) pairs, 3 seeds``, from
    summary.csv's counts (every approach evaluates the same queries)."""
    if "n_queries" not in summary or summary.empty:
        return ""
    n = int(summary["n_queries"].max())
    seeds = int(summary["n_seeds"].max()) if "n_seeds" in summary else 1
    if seeds == 1:
        return f"n = {n} {'query' if n == 1 else 'queries'}"
    return f"n = {n} (seed, query) pairs, {seeds} seeds"


def approach_colors(n: int) -> list:
    """One distinct colour per approach, the same in every plot: matplotlib's ten default
    colours, or tab20's twenty where there are more approaches (ten would repeat)."""
    import matplotlib

    if n <= 10:
        return [f"C{i}" for i in range(n)]
    cmap = matplotlib.colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]


def metrics_figure(summary: pd.DataFrame, name: str | None = None):
    """Grouped bars: each metric by approach, with 95% CI error bars; the title names the
    experiment and the sample size; the legend sits above the axes, clear of the bars."""
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
    title = "; ".join(part for part in [f"experiment {name}" if name else "",
                                        sample_size(summary)] if part)
    if title:
        fig.suptitle(f"{title}: mean with bootstrap 95% CI", fontsize=10)
    return fig


#: Most rows the per-query heatmap draws before labels get unreadable.
HEATMAP_ROWS = 200
#: Of those, at most this many go to queries every approach scores the same (below the top)
#: when there are more queries where the approaches differ than fit.
HEATMAP_SAME_ROWS = HEATMAP_ROWS // 4

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


def heatmap_rows(wide: pd.DataFrame, limit: int = HEATMAP_ROWS,
                 same_limit: int = HEATMAP_SAME_ROWS) -> dict:
    """The heatmap's rows of ``wide`` ((seed, qid, query) x approach), in two blocks.

    ``differ``: rows where the approaches' scores differ, the largest range (max - min) first,
    then the lowest mean: the queries that separate the approaches. ``same``: rows that every
    approach scores the same and below the best score seen, the lowest first: the queries all
    of them get equally wrong. Rows every approach scores at the top (e.g. all 1.0) say
    nothing about the approaches and are left out (``n_top``). Above ``limit`` rows, ``same``
    keeps at most ``same_limit`` (more if ``differ`` leaves room) and ``differ`` the rest;
    ``n_differ`` and ``n_same`` count all rows of each kind.
    """
    values = wide.to_numpy(dtype=np.float64)
    top = float(np.nanmax(values)) if values.size else 1.0
    spread = np.nanmax(values, axis=1) - np.nanmin(values, axis=1)
    order = pd.DataFrame({"spread": spread, "mean": np.nanmean(values, axis=1),
                          "pos": np.arange(len(wide))})
    alike = order["spread"] <= 1e-12
    differ = order[~alike].sort_values(["spread", "mean", "pos"], ascending=[False, True, True])
    same = order[alike & (order["mean"] < top - 1e-12)].sort_values(["mean", "pos"])
    n_same = min(len(same), max(same_limit, limit - len(differ)))
    n_differ = min(len(differ), limit - n_same)
    return {"differ": wide.iloc[differ["pos"].to_numpy()[:n_differ]],
            "same": wide.iloc[same["pos"].to_numpy()[:n_same]],
            "n_differ": len(differ), "n_same": len(same),
            "n_top": int(len(wide) - len(differ) - len(same)), "top": top, "n": len(wide),
            "seeds": len({seed for seed, _, _ in wide.index})}


def heatmap_title(metric: str, rows: dict) -> str:
    """What the heatmap shows and in which order, one line per block."""
    label = LABELS.get(metric, metric)

    def count(shown: int, of: int) -> str:
        return f"{shown}" if shown == of else f"{shown} of {of}"

    what = "queries" if rows["seeds"] == 1 else "(seed, query) rows"
    lines = [f"{label} per query, {rows['n']} {what}.\nTop: the "
             f"{count(len(rows['differ']), rows['n_differ'])} where the approaches differ, "
             f"largest range (max - min) first"]
    if rows["n_same"]:
        lines.append(f"below the line: the {count(len(rows['same']), rows['n_same'])} every "
                     f"approach scores the same, lowest first")
    if rows["n_top"]:
        lines.append(f"not shown: {rows['n_top']} every approach scores {rows['top']:g}")
    return ";\n".join(lines)


def heatmap_figure(per_query: pd.DataFrame, metric: str, fonts=None):
    """Per-query heatmap: (seed, query) rows x approach columns, coloured by ``metric``; the
    rows are those that separate the approaches (:func:`heatmap_rows`), the sort in the
    title."""
    plt = _plt()
    wide = per_query.pivot_table(index=["seed", "qid", "query"], columns="approach",
                                 values=metric, aggfunc="first", sort=False)
    wide = wide[list(dict.fromkeys(per_query["approach"]))]
    rows = heatmap_rows(wide)
    shown = pd.concat([rows["differ"], rows["same"]])
    title = heatmap_title(metric, rows)
    if shown.empty:  # every query scored alike at the top: nothing separates the approaches
        fig, ax = plt.subplots(figsize=(6.4, 1.6), layout="constrained")
        ax.set_axis_off()
        ax.set_title(title, fontsize=8, loc="left")
        return fig
    families, labels = heatmap_labels(list(shown.index), fonts)
    row_inches = 0.14
    height = 1.6 + 0.15 * (title.count("\n") + 1) + row_inches * len(shown)
    fig, ax = plt.subplots(figsize=(5.5 + 0.9 * shown.shape[1], height), layout="constrained")
    im = ax.imshow(shown.to_numpy(dtype=np.float64), aspect="auto", cmap="viridis", vmin=0,
                   vmax=1, interpolation="nearest")
    ax.set_xticks(range(shown.shape[1]), shown.columns, rotation=30, ha="right")
    ax.set_yticks(range(len(shown)), labels, fontsize=6, fontfamily=families)
    ax.set_ylabel("(seed) query" if len({s for s, _, _ in shown.index}) > 1 else "query")
    if len(rows["differ"]) and len(rows["same"]):
        ax.axhline(len(rows["differ"]) - 0.5, color="white", linewidth=2)
    ax.set_title(title, fontsize=8, loc="left")
    fig.colorbar(im, ax=ax, label=LABELS.get(metric, metric), shrink=min(1.0, 5 / height),
                 anchor=(0.0, 1.0))
    return fig


def plot_quality_latency(summary: pd.DataFrame, latency: pd.DataFrame, metric: str, path: str,
                         dpi: int = 120, name: str | None = None) -> None:
    _save_figure(quality_latency_figure(summary, latency, metric, name), path, dpi)


#: Marker shapes, cycled: points that sit on each other stay told apart.
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "p", "h", "*"]


def quality_latency_figure(summary: pd.DataFrame, latency: pd.DataFrame, metric: str,
                           name: str | None = None):
    """Quality (metric, with its 95% CI) against the whole pipeline's p50 latency per query
    (a bar to the p95 where latency.csv has it), one point per approach. The approaches are
    named in a legend beside the axes (labels at the points collide when points crowd); an
    approach built on other runs (fusion, rerank) also gives its own step's p50 there."""
    import matplotlib.ticker as mticker

    plt = _plt()
    merged = summary.merge(latency, on="approach")
    fig, ax = plt.subplots(figsize=(7.6, 4.4), layout="constrained")
    yerr = np.clip(np.array([merged[metric] - merged[f"{metric}_ci_low"],
                             merged[f"{metric}_ci_high"] - merged[metric]]), 0, None)
    xerr = None
    if "p95_ms" in merged:
        xerr = np.clip(np.array([np.zeros(len(merged)), merged["p95_ms"] - merged["p50_ms"]]),
                       0, None)
    from matplotlib.lines import Line2D

    colors = approach_colors(len(merged))  # as in the metrics plot
    handles = []
    for i, r in enumerate(merged.to_dict("records")):
        label = r["approach"]
        step = r.get("step_p50_ms")
        if step is not None and not np.isclose(step, r["p50_ms"], rtol=1e-6, atol=1e-9):
            label += f" (own step: p50 {step:.2g} ms)"
        marker = MARKERS[i % len(MARKERS)]
        ax.errorbar([r["p50_ms"]], [r[metric]], yerr=yerr[:, i:i + 1],
                    xerr=None if xerr is None else xerr[:, i:i + 1], fmt=marker,
                    markersize=6, capsize=3, elinewidth=1, color=colors[i])
        handles.append(Line2D([], [], marker=marker, linestyle="", color=colors[i],
                              label=label))
    ax.set_xscale("log")
    hi_x = merged["p95_ms"] if "p95_ms" in merged else merged["p50_ms"]
    lo_x, hi_x = merged["p50_ms"].min() / 1.5, hi_x.max() * 1.5
    # 1-2-5 ticks while they fit; over more than 3 decades (0.05 ms BM25 beside 500 ms dense
    # p95) only the powers of ten, or neighbouring labels run into each other
    wide = np.log10(hi_x / lo_x) > 3 if lo_x > 0 else True
    ax.xaxis.set_major_locator(mticker.LogLocator(base=10,
                                                  subs=(1.0,) if wide else (1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    ax.set_xlim(lo_x, hi_x)
    ylo = float(np.nanmin(merged[f"{metric}_ci_low"]))
    yhi = float(np.nanmax(merged[f"{metric}_ci_high"]))
    pad = max(0.02, 0.1 * (yhi - ylo))
    ax.set_ylim(ylo - pad, yhi + pad)
    ax.set_xlabel("latency per query of the whole pipeline, ms (log):\nthe approach's step "
                  "plus every run it is built on; "
                  + ("p50, bar to p95" if xerr is not None else "p50"), fontsize=9)
    ax.set_ylabel(f"{LABELS.get(metric, metric)} (95% CI)")
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False, borderaxespad=0)
    title = "; ".join(p for p in [f"experiment {name}" if name else "",
                                  sample_size(summary)] if p)
    # over the whole figure, axes and legend: an axes title is centred on the axes alone and
    # runs off the figure's left edge when the legend beside them is wide
    fig.suptitle(f"{LABELS.get(metric, metric)} against latency" + (f" ({title})" if title
                                                                    else ""), fontsize=10)
    return fig

"""Aggregates, paper table and plots on per-query frames (no Snakemake, no models).

Checks that each interval is one number per thing, that every metric in the table is tested,
that the randomization test is batched without changing its p-values, that latency files are
labelled by name, that the table states its sample size and warns when it shrinks or is tiny,
and that the plots keep legends and labels clear of data and text drawable.
"""

from __future__ import annotations

import json
import logging
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopbench import report, stats, steps
from shopbench import summary as S
from shopbench.errors import ShopbenchError

ORDER = ["minilm", "bm25", "hybrid"]
METRICS = ["hits@1", "hits@5", "hits@10", "mrr", "ndcg@10", "recall@10", "map"]


def per_query_frame(seeds=(1,), n=30, seed=0, queries=None) -> pd.DataFrame:
    """Random per-query metrics in evaluate's layout; hybrid is better than minilm on MAP
    only, by a clear margin."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in seeds:
        for q in range(n):
            base = rng.uniform(size=len(METRICS)).round(3)
            for approach in ORDER:
                values = base.copy()
                if approach == "bm25":
                    values = np.clip(values + rng.normal(0, 0.05, len(METRICS)), 0, 1).round(3)
                if approach == "hybrid":
                    values[METRICS.index("map")] = min(1.0, values[METRICS.index("map")] + 0.3)
                text = queries[q % len(queries)] if queries else f"query number {q} of seed {s}"
                rows.append({"approach": approach, "seed": s, "qid": 1000 * s + q,
                             "query": text, **dict(zip(METRICS, values)),
                             "first_rel_rank": 1.0, "top3": ""})
    return pd.DataFrame(rows)


def summary_of(per_query: pd.DataFrame, n_boot: int = 200):
    metrics = S.per_seed(per_query, ORDER, n_boot)
    return metrics, S.across_seeds(metrics, per_query, ORDER, n_boot)


# -- item 7: one interval per thing -------------------------------------------------------
def test_one_seed_summary_interval_equals_metrics_interval():
    pq = per_query_frame(seeds=(42,))
    metrics, summ = summary_of(pq)
    for metric in METRICS:
        for side in ("low", "high"):
            col = f"{metric}_ci_{side}"
            assert summ[col].tolist() == metrics[col].tolist()
    md, _, _ = report.paper_tables(summ, pd.DataFrame(), "minilm", {"E": 1, "S": .1, "C": .01,
                                                                    "I": 0})
    row = metrics[metrics["approach"] == "hybrid"].iloc[0]
    assert f"[{row['hits@1_ci_low']:.3f}, {row['hits@1_ci_high']:.3f}]" in md
    assert "the same as in metrics.csv" in md


def test_summary_value_and_interval_are_one_statistic_with_unequal_seeds():
    """Seeds that evaluate different numbers of queries: the value is the mean over all
    (seed, query) pairs, the one its bootstrap interval and significance.csv are about."""
    pq = pd.concat([per_query_frame(seeds=(1,), n=40, seed=1),
                    per_query_frame(seeds=(2,), n=10, seed=2)], ignore_index=True)
    metrics, summ = summary_of(pq)
    sig = S.significance(pq, "minilm", ORDER, n_perm=200)
    for approach in ORDER:
        row = summ.set_index("approach").loc[approach]
        pairs = pq[pq["approach"] == approach]
        assert row["n_queries"] == 50
        for metric in METRICS:
            assert row[metric] == pytest.approx(pairs[metric].mean(), abs=1e-12)
            assert row[f"{metric}_ci_low"] <= row[metric] <= row[f"{metric}_ci_high"]
            seed_means = metrics[metrics["approach"] == approach][metric]
            assert row[metric] != pytest.approx(seed_means.mean(), abs=1e-9)  # 40 vs 10 queries
        if approach != "minilm":
            tested = sig[(sig["approach"] == approach) & (sig["metric"] == "mrr")].iloc[0]
            assert tested["mean"] == pytest.approx(row["mrr"], abs=1e-12)


def test_seed_interval_stays_inside_the_metric_range():
    pq = per_query_frame(seeds=(1, 2), n=20)
    pq.loc[pq["seed"] == 1, "hits@1"] = 0.0  # seed means 0 and 1: t interval 0.5 +- 6.4
    pq.loc[pq["seed"] == 2, "hits@1"] = 1.0
    _, summ = summary_of(pq)
    assert summ["hits@1_seed_ci_low"].tolist() == [0.0] * 3
    assert summ["hits@1_seed_ci_high"].tolist() == [1.0] * 3
    for metric in METRICS:
        assert (summ[f"{metric}_seed_ci_low"] >= 0).all()
        assert (summ[f"{metric}_seed_ci_high"] <= 1).all()


def test_stratified_interval_is_built_from_the_per_seed_resamples():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(size=20), rng.uniform(size=35)
    reps = (20 * stats.bootstrap_means(a, 500, 1) + 35 * stats.bootstrap_means(b, 500, 2)) / 55
    expected = (np.quantile(reps, 0.025), np.quantile(reps, 0.975))
    assert stats.stratified_bootstrap_ci([(a, 1), (b, 2)], 500) == pytest.approx(expected,
                                                                                  abs=0)
    assert stats.stratified_bootstrap_ci([(a, 7)], 500) == stats.bootstrap_ci(a, 500, seed=7)


def test_bootstrap_is_the_same_in_batches():
    values = np.random.default_rng(3).uniform(size=101)
    whole = stats.bootstrap_means(values, 300, seed=4, batch_elements=10**9)
    batched = stats.bootstrap_means(values, 300, seed=4, batch_elements=333)
    assert np.array_equal(whole, batched)


# -- item 11: batched randomization test --------------------------------------------------
def one_draw_permutation_p(a, b, n_resamples, seed):
    """The unbatched Monte Carlo sign-flip test: one (n_resamples x n) draw."""
    diff = np.asarray(a) - np.asarray(b)
    observed = abs(diff.mean())
    signs = np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=(n_resamples,
                                                                            len(diff)))
    extreme = np.sum(np.abs((signs * diff).mean(axis=1)) >= observed - 1e-12 * max(1, observed))
    return (1 + extreme) / (1 + n_resamples)


@pytest.mark.parametrize("batch_elements", [1, 997, 4096, 10**9])
def test_batched_permutation_test_gives_the_one_draw_p(batch_elements):
    rng = np.random.default_rng(11)
    a = rng.uniform(size=200)
    b = np.clip(a - rng.normal(0.01, 0.2, size=200), 0, 1)
    p = stats.permutation_test(a, b, 3000, seed=0, batch_elements=batch_elements)
    assert p == one_draw_permutation_p(a, b, 3000, 0)
    assert 0 < p < 1


def test_permutation_test_memory_is_fixed_per_batch():
    rng = np.random.default_rng(12)
    n, resamples = 20_000, 2_000  # one draw: 40M signs, 320 MB of float64 (x2 for the product)
    a, b = rng.uniform(size=n), rng.uniform(size=n)
    tracemalloc.start()
    stats.permutation_test(a, b, resamples, seed=0, batch_elements=1 << 16)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # a few batches of 65,536 signs, not 40M


# -- item 8: every metric in the table is tested ------------------------------------------
def test_significance_covers_every_metric_and_marks_map():
    pq = per_query_frame(seeds=(1, 2), n=40)
    _, summ = summary_of(pq)
    sig = S.significance(pq, "minilm", ORDER, n_perm=2000)
    assert set(sig["metric"]) == set(METRICS)
    assert set(report.TABLE_METRICS) <= set(sig["metric"])
    for metric, block in sig.groupby("metric"):  # Holm across approaches, per metric
        assert block["p_perm_holm"].tolist() == pytest.approx(
            stats.holm(block["p_perm"]).tolist())
    md, tex, rst = report.paper_tables(summ, sig, "minilm", {"E": 1, "S": .1, "C": .01, "I": 0})
    hybrid = next(line for line in md.splitlines() if line.startswith("| hybrid"))
    cells = dict(zip(["Hits@1", "Hits@10", "MRR", "nDCG@10", "R@10", "MAP"],
                     hybrid.strip("|").split("|")[1:]))
    assert cells["MAP"].strip().endswith("†")
    assert not cells["Hits@1"].strip().endswith("†")
    assert "Holm-corrected across approaches per metric" in md
    assert "not tested" not in md
    assert r"$^\dagger$" in tex and "†" in rst


def test_footnote_names_untested_metrics():
    pq = per_query_frame()
    _, summ = summary_of(pq)
    sig = S.significance(pq, "minilm", ORDER, metrics=["mrr"], n_perm=500)
    md, _, _ = report.paper_tables(summ, sig, "minilm", {"E": 1, "S": .1, "C": .01, "I": 0})
    assert "not tested: Hits@1, Hits@10, nDCG@10, R@10, MAP." in md


# -- item 17: sample size and few-query warnings ------------------------------------------
def test_table_states_n_and_warns_when_fewer_queries_than_asked():
    note = report.sample_note({42: 32}, 50)
    assert note.startswith("n = 32 queries.")
    assert "fewer queries than the 50 asked for" in note
    assert "Warning" not in report.sample_note({42: 50}, 50)
    several = report.sample_note({1: 50, 2: 49}, 50)
    assert "50 (seed 1), 49 (seed 2)" in several and "fewer queries than the 50" in several
    assert report.sample_note({1: 50, 2: 50, 3: 50}, 50).startswith(
        "n = 50 queries per seed x 3 seeds (150 (seed, query) pairs).")


def _sample_slice(tmp_path, caplog, **params) -> tuple[int, dict]:
    """The sample step on the real slice: how many queries it kept, and its sampling.json."""
    out = {name: str(tmp_path / name)
           for name in ("qrels.tsv", "queries.tsv", "s.parquet", "sampling.json")}
    with caplog.at_level(logging.WARNING, logger="shopbench"):
        steps.sample(examples="data/esci-us-150q/shopping_queries_dataset_examples.parquet",
                     qrels_out=out["qrels.tsv"], queries_out=out["queries.tsv"],
                     sample_out=out["s.parquet"], sampling_out=out["sampling.json"],
                     locale="us", labels=["E"], **params)
    return (len(pd.read_csv(out["queries.tsv"], sep="\t")),
            json.loads(Path(out["sampling.json"]).read_text(encoding="utf-8")))


def test_sampling_shrinkage_is_warned_in_the_log(tmp_path, caplog):
    n, record = _sample_slice(tmp_path, caplog, seed=42, n_queries=50, n_rows=60,
                              on_too_few_queries="error", protocol="seed")
    assert n < 50
    assert f"{50 - n} of the 50 queries drawn drop out" in caplog.text
    assert "raise n_rows to keep more" in caplog.text and "clamp" not in caplog.text
    assert record == {"seed": 42, "asked": 50, "pass_filter": 150, "drawn": 50, "kept": n,
                      "n_rows": 60}
    note = report.sample_note({42: n}, 50, [record])
    assert "the notebook's sampling keeps only the queries with a row among" in note
    assert "clamp" not in note


def test_clamped_sampling_names_the_clamp_not_n_rows(tmp_path, caplog):
    """150 queries pass the filter; 200 asked for with clamp and enough rows: all 150 are
    kept, and the log and caption give the clamp as the cause, not n_rows."""
    n, record = _sample_slice(tmp_path, caplog, seed=1, n_queries=200, n_rows=100_000,
                              on_too_few_queries="clamp", protocol="judged-pool")
    assert n == 150
    assert "clamping to 150 (sampling.on_too_few_queries: clamp)" in caplog.text
    assert "150 of the 200 queries asked for (sampling.n_queries) are evaluated; only 150 " \
           "queries pass the filter" in caplog.text
    assert "n_rows" not in caplog.text
    assert (record["pass_filter"], record["drawn"], record["kept"]) == (150, 150, 150)
    note = report.sample_note({1: 150}, 200, [record])
    assert note == ("n = 150 queries. Warning: fewer queries than the 200 asked for "
                    "(sampling.n_queries): only 150 queries pass the sampling filter "
                    "(sampling.on_too_few_queries: clamp).")


def test_tiny_runs_are_flagged(caplog):
    pq = per_query_frame(n=1)
    with caplog.at_level(logging.WARNING, logger="shopbench"):
        S.warn_few_queries(pq)
        sig = S.significance(pq, "minilm", ORDER, n_perm=100)
    assert "seed 1: only 1 query:" in caplog.text and "rest on only 1 (seed, query) pairs" in caplog.text
    assert (sig["p_perm"] == 1.0).all()
    note = report.sample_note({1: 1}, 1)
    assert note.startswith("n = 1 query.") and "rest on only 1 (seed, query) pairs" in note


# -- item 12: latency files are labelled by name ------------------------------------------
def write_latency(tmp_path, seeds=(1, 2)):
    rng = np.random.default_rng(0)
    labels = {}
    for seed in seeds:
        for i, name in enumerate(ORDER):
            path = tmp_path / f"s{seed}-{name}.tsv"
            seconds = (i + 1) * 10 ** (seed - 3) + rng.uniform(0, 1e-4, size=5)
            pd.DataFrame({"qid": range(5), "seconds": seconds}).to_csv(path, sep="\t",
                                                                      index=False)
            labels[str(path)] = [seed, name]
    return labels


def test_latency_follows_the_labels_not_the_file_order(tmp_path):
    labels = write_latency(tmp_path)
    deps = {"minilm": [], "bm25": [], "hybrid": ["minilm", "bm25"]}
    files = list(labels)
    steps.latency(latencies=files, latency_out=str(tmp_path / "a.csv"), order=ORDER,
                  labels=labels, deps=deps)
    steps.latency(latencies=files[::-1], latency_out=str(tmp_path / "b.csv"), order=ORDER,
                  labels=labels, deps=deps)
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(a, b)
    own = pd.concat(pd.read_csv(f, sep="\t") for f, (_, name) in labels.items()
                    if name == "bm25")["seconds"] * 1000
    assert a.set_index("approach").loc["bm25", "step_p50_ms"] == pytest.approx(own.median())


def test_unlabelled_latency_file_is_an_error(tmp_path):
    labels = write_latency(tmp_path, seeds=(1,))
    extra = tmp_path / "stray.tsv"
    extra.write_text("qid\tseconds\n1\t0.1\n")
    with pytest.raises(ShopbenchError, match="stray.tsv has no"):
        steps.latency(latencies=list(labels) + [str(extra)],
                      latency_out=str(tmp_path / "o.csv"), order=ORDER, labels=labels, deps={})


def test_latency_note_summarizes_the_queries_timed_in_every_approach(tmp_path):
    """With a note (searches batched, a sample timed), each approach is summarized over the
    (seed, query) pairs timed in all of them, and the note is the measured column."""
    labels = {}
    for name, qids in [("minilm", [0, 2, 4]), ("bm25", [0, 2, 4]), ("hybrid", range(5))]:
        path = tmp_path / f"{name}.tsv"
        seconds = [0.001 * (q + 1) if q in (0, 2, 4) else 9.0 for q in qids]
        pd.DataFrame({"qid": list(qids), "seconds": seconds}).to_csv(path, sep="\t",
                                                                    index=False)
        labels[str(path)] = [1, name]
    steps.latency(latencies=list(labels), latency_out=str(tmp_path / "lat.csv"), order=ORDER,
                  labels=labels, deps={"minilm": [], "bm25": [], "hybrid": ["minilm", "bm25"]},
                  note="timed on a sample")
    table = pd.read_csv(tmp_path / "lat.csv").set_index("approach")
    assert (table["measured"] == "timed on a sample").all()
    assert table.loc["hybrid", "step_p50_ms"] == pytest.approx(3.0)  # qids 0, 2, 4: 1, 3, 5 ms


def test_report_steps_write_the_aggregates_table_and_plots(tmp_path):
    """aggregate, latency, tables and plots as their rules call them, by name."""
    from shopbench import trec

    pq = per_query_frame(seeds=(1, 2), n=12)
    evals = []
    for (name, seed), block in pq.groupby(["approach", "seed"]):
        evals.append(str(tmp_path / f"eval-{seed}-{name}.tsv"))
        trec.write_tsv(block, evals[-1])
    out = {k: str(tmp_path / f"{k}.csv") for k in ("metrics", "summary", "per_query",
                                                   "significance", "worst")}
    steps.aggregate(evals=evals, **{f"{k}_out": v for k, v in out.items()}, order=ORDER,
                    baseline="minilm", bootstrap=50, permutations=50, worst_queries=5)
    labels = write_latency(tmp_path)
    steps.latency(latencies=list(labels), latency_out=str(tmp_path / "latency.csv"),
                  order=ORDER, labels=labels, deps={"minilm": [], "bm25": [],
                                                    "hybrid": ["minilm", "bm25"]})
    tables = {k: str(tmp_path / f"results.{k}") for k in ("md", "tex", "rst")}
    steps.tables(summary=out["summary"], significance=out["significance"],
                 metrics=out["metrics"], **{f"{k}_out": v for k, v in tables.items()},
                 baseline="minilm", gains={"E": 1, "S": .1, "C": .01, "I": 0}, n_queries=12)
    md = open(tables["md"], encoding="utf-8").read()
    assert "| hybrid" in md and "n = 12 queries per seed x 2 seeds" in md
    plots = {k: str(tmp_path / f"{k}.png") for k in ("metrics", "heatmap", "quality_latency")}
    steps.plots(summary=out["summary"], per_query=out["per_query"],
                latency=str(tmp_path / "latency.csv"),
                **{f"{k}_out": v for k, v in plots.items()}, metric="mrr", dpi=40)
    for path in plots.values():
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n", path


# -- item 15: plots keep legends and labels clear -----------------------------------------
def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_metrics_legend_covers_no_bar():
    pq = per_query_frame()
    pq.loc[:, "hits@10"] = 1.0  # bars up to the top of the axes
    _, summ = summary_of(pq)
    fig = report.metrics_figure(summ)
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    assert bars and not any(_boxes_overlap(legend, bar) for bar in bars)
    assert fig.bbox.contains(legend.x0, legend.y0) and fig.bbox.contains(legend.x1, legend.y1)


def test_every_approach_has_its_own_colour_in_both_plots():
    from matplotlib.colors import to_rgba

    for n in (3, 12, 20):
        colors = [to_rgba(c) for c in report.approach_colors(n)]
        assert len(set(colors)) == n  # twelve approaches used to repeat ten colours
    pq = per_query_frame()
    _, summ = summary_of(pq)
    fig = report.metrics_figure(summ)
    ax = fig.axes[0]
    per_approach = len(ax.patches) // len(ORDER)
    bar_colors = [ax.patches[i * per_approach].get_facecolor() for i in range(len(ORDER))]
    assert bar_colors == [to_rgba(c) for c in report.approach_colors(len(ORDER))]


def test_heatmap_labels_fit_and_name_their_seed():
    pq = per_query_frame(seeds=(1, 2), n=12, queries=["a rather long query text that goes on "
                                                        "and on past forty characters"])
    fig = report.heatmap_figure(pq, "mrr")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = fig.axes[0].get_yticklabels()
    assert len(labels) == 24
    assert {lab.get_text()[:2] for lab in labels} == {"s1", "s2"}
    _, one_seed = report.heatmap_labels([(42, 7, "blue hat")], [("Sans", frozenset(range(256)))])
    assert one_seed == ["blue hat"]  # one seed: no seed prefix
    for lab in labels:
        box = lab.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.x1
        assert len(lab.get_text()) <= len("s1 \u00b7 ") + 40


def test_quality_latency_names_approaches_in_a_legend_clear_of_the_data():
    pq = per_query_frame()
    _, summ = summary_of(pq)
    lat = pd.DataFrame({"approach": ORDER, "step_p50_ms": [5.0, 0.5, 0.1],
                        "p50_ms": [5.0, 0.5, 5.6], "p95_ms": [9.0, 1.0, 9.9],
                        "mean_ms": [6.0, 0.6, 6.5]})  # minilm and hybrid nearly coincide
    fig = report.quality_latency_figure(summ, lat, "mrr", name="exp")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "minilm", "bm25", "hybrid (own step: p50 0.1 ms)"]  # hybrid's pipeline is minilm's
    box = legend.get_window_extent(renderer)
    assert not _boxes_overlap(box, ax.get_window_extent(renderer))
    assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)
    assert not [t for t in ax.texts]  # no labels at the points to collide
    markers = [h.get_marker() for h in legend.legend_handles]
    assert len(set(markers)) == len(ORDER)  # coinciding points stay told apart
    assert len(ax.containers) == 3
    assert all(c.has_yerr and c.has_xerr for c in ax.containers)
    assert "whole pipeline" in ax.get_xlabel() and "every run it is built on" in ax.get_xlabel()
    title = fig._suptitle
    assert title.get_text() == "MRR against latency (experiment exp; n = 30 queries)"
    box = title.get_window_extent(renderer)
    assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)
    for label in ax.get_xticklabels():  # plain numbers, no 3x10^0 crowding
        assert "times" not in label.get_text() and "^" not in label.get_text()


def test_quality_latency_title_and_ticks_fit_over_many_decades():
    """BM25 at 0.05 ms beside dense runs with a 500 ms p95 and a long legend: the title stays
    inside the figure and no two tick labels overlap."""
    pq = per_query_frame()
    _, summ = summary_of(pq)
    summ = summ.assign(approach=summ["approach"] + "-with-a-long-name-for-the-legend")
    lat = pd.DataFrame({"approach": summ["approach"], "step_p50_ms": [25.0, 0.05, 0.06],
                        "p50_ms": [25.0, 0.05, 30.0], "p95_ms": [500.0, 0.1, 505.0],
                        "mean_ms": [100.0, 0.07, 105.0]})
    fig = report.quality_latency_figure(summ, lat, "mrr", name="engines")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig._suptitle.get_window_extent(renderer)
    assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    boxes = sorted((t.get_window_extent(renderer) for t in ax.get_xticklabels()
                    if t.get_text() and lo <= t.get_position()[0] <= hi), key=lambda b: b.x0)
    assert len(boxes) >= 4
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))


def test_metrics_title_names_experiment_and_sample_size():
    _, one = summary_of(per_query_frame())
    assert report.metrics_figure(one, "quickstart")._suptitle.get_text() == (
        "experiment quickstart; n = 30 queries: mean with bootstrap 95% CI")
    _, three = summary_of(per_query_frame(seeds=(1, 2, 3), n=20))
    assert report.metrics_figure(three, "esci-es")._suptitle.get_text() == (
        "experiment esci-es; n = 60 (seed, query) pairs, 3 seeds: mean with bootstrap 95% CI")


def test_plots_step_titles_with_the_experiment_name(tmp_path):
    pq = per_query_frame()
    metrics, summ = summary_of(pq)
    pq.to_csv(tmp_path / "per_query.csv", index=False)
    summ.to_csv(tmp_path / "summary.csv", index=False)
    pd.DataFrame({"approach": ORDER, "step_p50_ms": [5.0, 0.5, 0.1], "p50_ms": [5.0, 0.5, 5.6],
                  "p95_ms": [9.0, 1.0, 9.9], "mean_ms": [6.0, 0.6, 6.5]}).to_csv(
        tmp_path / "latency.csv", index=False)
    outs = {k: str(tmp_path / f"{k}.png") for k in ("metrics", "heatmap", "quality_latency")}
    steps.plots(str(tmp_path / "summary.csv"), str(tmp_path / "per_query.csv"),
                str(tmp_path / "latency.csv"), metrics_out=outs["metrics"],
                heatmap_out=outs["heatmap"], quality_latency_out=outs["quality_latency"],
                metric="mrr", dpi=60, name="exp")
    for path in outs.values():
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


# -- item 18: non-Latin query texts ---------------------------------------------------------
JAPANESE = "\u30ef\u30a4\u30e4\u30ec\u30b9 \u30a4\u30e4\u30db\u30f3"  # "wireless earphones"


def test_choose_labels_uses_a_covering_font():
    latin = frozenset(range(0x250))
    cjk = frozenset(ord(c) for c in JAPANESE)
    families, labels = report.choose_labels(["blue hat", JAPANESE], ["id 1", "id 2"],
                                            [("Sans", latin), ("Other", latin),
                                             ("Noto Sans CJK JP", cjk)])
    assert families == ["Sans", "Noto Sans CJK JP"] and labels == ["blue hat", JAPANESE]


def test_choose_labels_falls_back_to_the_query_id():
    latin = frozenset(range(0x250))
    families, labels = report.choose_labels(["blue hat", JAPANESE], ["id 1", "id 2"],
                                            [("Sans", latin)])
    assert families == ["Sans"] and labels == ["blue hat", "id 2"]


def test_choose_labels_reads_fonts_only_as_far_as_needed():
    def fonts():
        yield "Sans", frozenset(range(0x250))
        raise AssertionError("read past the default font")

    assert report.choose_labels(["blue hat"], ["id"], fonts()) == (["Sans"], ["blue hat"])


def test_heatmap_draws_japanese_without_missing_glyphs(caplog):
    """With the installed fonts: either a font covers the text (then no glyph is missing) or
    the row shows the query id; never empty boxes."""
    pq = per_query_frame(n=3, queries=[JAPANESE, "blue hat", "\u0432\u0435\u043b\u043e"])
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        fig = report.heatmap_figure(pq, "mrr")
        fig.canvas.draw()
    assert not [w for w in caught if "missing from" in str(w.message)]
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    families, _ = report.heatmap_labels([(1, 1000, JAPANESE)])
    if len(families) > 1:
        assert JAPANESE in labels
    else:
        assert "query id 1000" in labels and "query ids instead" in caplog.text


def separating_frame(n_differ: int, n_zero: int, n_one: int) -> pd.DataFrame:
    """One seed: n_differ queries where the approaches' MRR differs (range growing with the
    query number), n_zero that every approach misses, n_one that every approach gets at 1."""
    rows = []
    for q in range(n_differ + n_zero + n_one):
        if q < n_differ:
            values = {"minilm": 0.5, "bm25": 0.5 + 0.5 * (q + 1) / n_differ, "hybrid": 0.5}
        else:
            value = 0.0 if q < n_differ + n_zero else 1.0
            values = dict.fromkeys(ORDER, value)
        for approach in ORDER:
            rows.append({"approach": approach, "seed": 1, "qid": q, "query": f"query {q}",
                         "mrr": values[approach]})
    return pd.DataFrame(rows)


def heatmap_matrix(fig) -> np.ndarray:
    return np.asarray(fig.axes[0].images[0].get_array())


def test_heatmap_shows_the_queries_that_separate_the_approaches():
    pq = separating_frame(n_differ=12, n_zero=3, n_one=20)
    fig = report.heatmap_figure(pq, "mrr")
    data = heatmap_matrix(fig)
    assert data.shape == (15, 3)  # the 20 rows at 1.0 for every approach are left out
    spread = data.max(axis=1) - data.min(axis=1)
    assert (np.diff(spread[:12]) <= 0).all() and spread[0] == pytest.approx(0.5)
    assert (spread[12:] == 0).all() and (data[12:] == 0).all()
    title = fig.axes[0].get_title(loc="left")
    assert title == ("MRR per query, 35 queries.\nTop: the 12 where the approaches differ, "
                     "largest range (max - min) first;\nbelow the line: the 3 every approach "
                     "scores the same, lowest first;\nnot shown: 20 every approach scores 1")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0] == "query 11" and labels[-3:] == ["query 12", "query 13", "query 14"]


def test_heatmap_of_many_queries_keeps_room_for_the_ones_all_miss():
    pq = separating_frame(n_differ=400, n_zero=100, n_one=50)
    fig = report.heatmap_figure(pq, "mrr")
    data = heatmap_matrix(fig)
    assert len(data) == report.HEATMAP_ROWS
    n_same = report.HEATMAP_SAME_ROWS
    spread = data.max(axis=1) - data.min(axis=1)
    assert (spread[:-n_same] > 0).all() and (spread[-n_same:] == 0).all()
    assert spread[0] == pytest.approx(0.5)  # the widest ranges of the 400 are kept
    assert spread[report.HEATMAP_ROWS - n_same - 1] == pytest.approx(
        0.5 * (400 - (report.HEATMAP_ROWS - n_same) + 1) / 400)
    assert "Top: the 150 of 400 where the approaches differ" in fig.axes[0].get_title(
        loc="left")
    assert "the 50 of 100 every approach scores the same" in fig.axes[0].get_title(loc="left")


def test_heatmap_when_nothing_separates_the_approaches():
    fig = report.heatmap_figure(separating_frame(0, 0, 5), "mrr")
    assert not fig.axes[0].images
    assert "not shown: 5 every approach scores 1" in fig.axes[0].get_title(loc="left")

"""Report: the paper tables, the plots and provenance."""

from __future__ import annotations

import pandas as pd

from ..files import atomic_outputs, write_text_atomic


def tables(summary: str, significance: str, metrics: str, md_out: str, tex_out: str,
           rst_out: str, sampling: list[str] = (), *, baseline: str, gains: dict,
           n_queries: int, stand_ins: dict[str, str] | None = None) -> None:
    """The paper table (Markdown, LaTeX, reST); ``n_queries`` is the number asked for,
    ``sampling`` each seed's sampling.json (why fewer queries were kept, if so);
    ``stand_ins`` (approach -> model) are labelled as stand-ins in the caption."""
    import json
    from pathlib import Path

    from .. import report

    summary = pd.read_csv(summary)
    try:
        sig = pd.read_csv(significance)
    except pd.errors.EmptyDataError:
        sig = pd.DataFrame()
    per_seed = pd.read_csv(metrics)
    per_seed = per_seed[per_seed["approach"] == per_seed["approach"].iloc[0]]
    n_per_seed = dict(zip(per_seed["seed"].astype(int), per_seed["n_queries"].astype(int)))
    draws = [json.loads(Path(p).read_text(encoding="utf-8")) for p in sampling]
    md, tex, rst = report.paper_tables(summary, sig, baseline, gains, n_per_seed=n_per_seed,
                                       n_asked=n_queries, sampling=draws,
                                       stand_ins=stand_ins)
    with atomic_outputs(md_out, tex_out, rst_out) as (md_tmp, tex_tmp, rst_tmp):
        write_text_atomic(md_tmp, md)
        write_text_atomic(tex_tmp, tex)
        write_text_atomic(rst_tmp, rst)


def plots(summary: str, per_query: str, latency: str, *, metrics_out: str,
          heatmap_out: str, quality_latency_out: str, metric: str, dpi: int,
          name: str | None = None) -> None:
    """The three plots; ``name``: the experiment's, for the titles."""
    from .. import report

    summary, latency = pd.read_csv(summary), pd.read_csv(latency)
    per_query = pd.read_csv(per_query, keep_default_na=False,
                            na_values={"first_rel_rank": [""]})
    with atomic_outputs(metrics_out, heatmap_out, quality_latency_out) as (m_tmp, h_tmp, q_tmp):
        report.plot_metrics(summary, m_tmp, dpi, name)
        report.plot_heatmap(per_query, metric, h_tmp, dpi)
        report.plot_quality_latency(summary, latency, metric, q_tmp, dpi, name)


def provenance(data: list[str], metrics: str, provenance_out: str, *, config: dict,
               models: dict, snakemake_version: str, analysis: list[str] = ()) -> None:
    from .. import provenance as P

    P.write(provenance_out, config=config, models=models, data_files=list(data),
            snakemake_version=snakemake_version, analysis_files=list(analysis))

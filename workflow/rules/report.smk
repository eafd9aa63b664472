# Report: paper tables, plots and provenance; `snakemake --report report.html` collects them.
from snakemake import __version__ as SNAKEMAKE_VERSION

REPORT = config["report"]


rule tables:
    input:
        summary=f"{R}/summary.csv",
        significance=f"{R}/significance.csv",
        metrics=f"{R}/metrics.csv",
        sampling=expand(f"{R}/seed{{seed}}/sampling.json", seed=SEEDS),
    output:
        md=report(
            f"{R}/tables/results.md",
            category="Tables",
            caption="../report/results_table.rst",
            labels={"table": "paper table (Markdown)"},
        ),
        tex=report(
            f"{R}/tables/results.tex",
            category="Tables",
            caption="../report/results_table.rst",
            labels={"table": "paper table (LaTeX)"},
        ),
        rst=f"{R}/tables/results.rst",
    log:
        f"{R}/logs/tables.log",
    conda:
        "../../envs/evaluate.yaml"
    params:
        baseline=BASELINE,
        gains=EVAL["gains"],
        n_queries=None if SAMPLING["n_queries"] == "all" else SAMPLING["n_queries"],
        stand_ins={
            name: a["model"]
            for name, a in APPROACHES.items()
            if "model" in a and MODELS[a["model"]].get("stand_in")
        },
    script:
        "../scripts/step.py"


rule plots:
    input:
        summary=f"{R}/summary.csv",
        per_query=f"{R}/per_query.csv",
        latency=f"{R}/latency.csv",
    output:
        metrics=report(
            f"{R}/plots/metrics.png",
            category="Plots",
            caption="../report/plot_metrics.rst",
            labels={"plot": "metrics by approach"},
        ),
        heatmap=report(
            f"{R}/plots/per_query_heatmap.png",
            category="Plots",
            caption="../report/plot_heatmap.rst",
            labels={"plot": "per-query heatmap"},
        ),
        quality_latency=report(
            f"{R}/plots/quality_latency.png",
            category="Plots",
            caption="../report/plot_quality_latency.rst",
            labels={"plot": "quality vs latency"},
        ),
    log:
        f"{R}/logs/plots.log",
    conda:
        "../../envs/evaluate.yaml"
    params:
        metric=REPORT["plot_metric"],
        dpi=REPORT["dpi"],
        name=config["name"],
    script:
        "../scripts/step.py"


rule provenance:
    input:
        data=[config["data"]["examples"], config["data"]["products"]],
        metrics=f"{R}/metrics.csv",
        analysis=bm25_analysis_files(),
    output:
        provenance=report(
            f"{R}/provenance.json",
            category="Provenance",
            caption="../report/provenance.rst",
            labels={"file": "provenance"},
        ),
    log:
        f"{R}/logs/provenance.log",
    conda:
        "../../envs/provenance.yaml"
    params:
        config=config,
        models={name: m["path"] for name, m in MODELS.items()},
        snakemake_version=SNAKEMAKE_VERSION,
    script:
        "../scripts/step.py"

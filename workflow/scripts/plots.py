import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import steps
from shopbench.logs import step_logging

out = snakemake.output
with step_logging(snakemake.log):
    steps.plots(snakemake.input.summary, snakemake.input.per_query, snakemake.input.latency,
                metrics_out=out.metrics, heatmap_out=out.heatmap,
                quality_latency_out=out.quality_latency, **snakemake.params)

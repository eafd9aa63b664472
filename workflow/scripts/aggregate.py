import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import steps
from shopbench.logs import step_logging

out = snakemake.output
with step_logging(snakemake.log):
    steps.aggregate(list(snakemake.input), metrics_out=out.metrics, summary_out=out.summary,
                    per_query_out=out.per_query, significance_out=out.significance,
                    worst_out=out.worst, **snakemake.params)

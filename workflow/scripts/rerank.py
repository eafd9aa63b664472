import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import steps
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    steps.rerank_run(snakemake.input.run, snakemake.input.corpus, snakemake.input.queries,
                     snakemake.output.run, snakemake.output.latency,
                     approach=snakemake.wildcards.approach, threads=snakemake.threads,
                     normalized_file=steps.optional(snakemake.input.normalized),
                     **snakemake.params)

import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import steps
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    steps.evaluate(snakemake.input.run, snakemake.input.qrels, snakemake.input.queries,
                   snakemake.input.corpus, snakemake.output[0],
                   approach=snakemake.wildcards.approach, seed=int(snakemake.wildcards.seed),
                   normalized_file=steps.optional(snakemake.input.normalized),
                   **snakemake.params)

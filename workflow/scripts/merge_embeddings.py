import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import steps
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    steps.merge_embeddings(list(snakemake.input.parts), snakemake.input.queries,
                           snakemake.output.embeddings, snakemake.output.queries,
                           snakemake.output.seconds)

from shopbench import steps
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    steps.index(snakemake.input.embeddings, snakemake.output.index)

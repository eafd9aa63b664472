from shopbench import steps
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    steps.latency(list(snakemake.input), snakemake.output[0], **snakemake.params)

from shopbench import steps
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    steps.tables(snakemake.input.summary, snakemake.input.significance, snakemake.output.md,
                 snakemake.output.tex, **snakemake.params)

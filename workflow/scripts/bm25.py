import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import steps
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    steps.bm25_run(snakemake.input.corpus, snakemake.input.queries, snakemake.input.candidates,
                   snakemake.output.run, snakemake.output.latency,
                   approach=snakemake.wildcards.approach,
                   fields_file=steps.optional(snakemake.input.fields),
                   normalized_file=steps.optional(snakemake.input.normalized),
                   analysis_out=snakemake.output.analysis, **snakemake.params)

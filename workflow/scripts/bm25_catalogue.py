import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import catalogue
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    catalogue.bm25_catalogue_run(snakemake.input.get("index"), snakemake.input.corpus,
                                 snakemake.input.queries, snakemake.output.run,
                                 snakemake.output.latency, approach=snakemake.wildcards.approach,
                                 analysis_out=snakemake.output.analysis,
                                 **snakemake.params)

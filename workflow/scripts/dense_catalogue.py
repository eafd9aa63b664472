import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import catalogue
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    catalogue.dense_run(snakemake.input.index, snakemake.input.query_embeddings,
                        snakemake.input.query_seconds, snakemake.input.corpus,
                        snakemake.input.queries, snakemake.output.run, snakemake.output.latency,
                        approach=snakemake.wildcards.approach, threads=snakemake.threads,
                        **snakemake.params)

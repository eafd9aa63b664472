import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import catalogue
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    catalogue.build_corpus(snakemake.input.products, snakemake.output.corpus, **snakemake.params)

import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import steps
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    steps.encode_products(snakemake.input.corpus, name=snakemake.wildcards.model,
                          threads=snakemake.threads,
                          **{f"{key}_out": path for key, path in snakemake.output.items()},
                          **snakemake.params)

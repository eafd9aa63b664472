import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench.data import download
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    download(snakemake.params.url, snakemake.output[0], sha256=snakemake.params.sha256,
             size=snakemake.params.size)

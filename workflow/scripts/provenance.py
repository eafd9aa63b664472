import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import provenance
from shopbench.logs import step_logging

with step_logging(snakemake.log):
    provenance.write(snakemake.output[0], config=snakemake.params.config,
                     models=snakemake.params.models, data_files=list(snakemake.input.data),
                     snakemake_version=snakemake.params.snakemake_version)

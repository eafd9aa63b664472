# Every rule's script: run the rule's step (shopbench.steps.STEPS) with its inputs, outputs,
# params, wildcards and threads passed by name.
import sys  # make src/shopbench importable without installation (e.g. --sdm conda)

sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench.steps import run  # noqa: E402

run(snakemake)

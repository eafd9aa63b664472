import sys  # make src/shopbench importable without installation (e.g. --sdm conda)
sys.path.insert(0, f"{snakemake.scriptdir}/../../src")
from shopbench import steps
from shopbench.logs import step_logging

inp, out = snakemake.input, snakemake.output
with step_logging(snakemake.log):
    steps.tables(inp.summary, inp.significance, inp.metrics, out.md, out.tex, out.rst,
                 **snakemake.params)

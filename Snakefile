# shopbench: product-search retrieval experiments on Amazon ESCI. See README.md.
from snakemake.utils import min_version

min_version("9.0")


# config.yaml is the embedded default experiment; `--configfile X` replaces it (no merging).
if not workflow.config_settings.configfiles:

    configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/cluster.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/text.smk"
include: "workflow/rules/index.smk"
include: "workflow/rules/retrieve.smk"
include: "workflow/rules/shards.smk"
include: "workflow/rules/late.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


# Landing page of `snakemake --report`: the experiment, its protocol and data, the paper table.
report: "workflow/report/workflow.rst"


# After a failed run: each failed job's shopbench error again, last, where a user looks.
onerror:
    failed_job_errors(log)


rule all:
    default_target: True
    input:
        final_outputs(),

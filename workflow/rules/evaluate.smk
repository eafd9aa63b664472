# Evaluation: per-query metrics per run, then aggregates across approaches and seeds.
EVAL = config["evaluation"]


rule evaluate:
    input:
        run=seed_dir("runs/{approach}.tsv"),
        qrels=seed_dir("qrels.tsv"),
        queries=seed_dir("queries.tsv"),
        corpus=CORPUS,
        normalized=normalized_queries,
    output:
        eval=seed_dir("eval/{approach}.tsv"),
    log:
        f"{R}/logs/seed{{seed}}/eval_{{approach}}.log",
    conda:
        "../../envs/evaluate.yaml"
    params:
        hits_k=EVAL["hits_k"],
        gains=EVAL["gains"],
        relevant_labels=EVAL["relevant_labels"],
    script:
        "../scripts/step.py"


rule aggregate:
    input:
        evals=expand(
            f"{R}/seed{{seed}}/eval/{{approach}}.tsv", seed=SEEDS, approach=ORDER
        ),
    output:
        metrics=report(
            f"{R}/metrics.csv",
            category="Tables",
            caption="../report/metrics.rst",
            labels={"table": "metrics per approach and seed"},
        ),
        summary=report(
            f"{R}/summary.csv",
            category="Tables",
            caption="../report/summary.rst",
            labels={"table": "summary across seeds"},
        ),
        per_query=f"{R}/per_query.csv",
        significance=report(
            f"{R}/significance.csv",
            category="Tables",
            caption="../report/significance.rst",
            labels={"table": "significance vs baseline"},
        ),
        worst=report(
            f"{R}/worst_queries.csv",
            category="Per-query analysis",
            caption="../report/worst_queries.rst",
            labels={"table": "worst queries"},
        ),
    log:
        f"{R}/logs/aggregate.log",
    conda:
        "../../envs/evaluate.yaml"
    params:
        order=ORDER,
        baseline=BASELINE,
        bootstrap=EVAL["bootstrap"],
        permutations=EVAL["permutations"],
        worst_queries=EVAL["worst_queries"],
    script:
        "../scripts/step.py"


# Each latency file with the (seed, approach) it holds: passed to the step by name, not by
# position in the input list.
LATENCY_FILES = {
    f"{R}/seed{seed}/latency/{approach}.tsv": [seed, approach]
    for seed in SEEDS
    for approach in ORDER
}


rule latency:
    input:
        latencies=list(LATENCY_FILES),
    output:
        latency=report(
            f"{R}/latency.csv",
            category="Latency",
            caption="../report/latency.rst",
            labels={"table": "latency per approach"},
        ),
    log:
        f"{R}/logs/latency.log",
    conda:
        "../../envs/evaluate.yaml"
    params:
        order=ORDER,
        labels=LATENCY_FILES,
        deps={name: dependencies(a) for name, a in APPROACHES.items()},
        note=(
            "searches of all queries ran batched; latency measured one query at a time on "
            f"up to {LATENCY_QUERIES} queries per seed (spread evenly by qid)"
        ),
    script:
        "../scripts/step.py"

# Shards (config `shards: N` > 1): join the parts of encode and rerank (see cluster.smk).


if SHARDS > 1:

    rule merge_embeddings:
        input:
            parts=parts(seed_dir("embeddings/{model}.npy"), ".npz"),
            queries=seed_dir("queries.tsv"),
        output:
            embeddings=seed_dir("embeddings/{model}.npy"),
            queries=seed_dir("embeddings/{model}.queries.npy"),
            seconds=seed_dir("latency/queries/{model}.tsv"),
        wildcard_constraints:
            model=models_of(per_seed_corpus=True),
        log:
            f"{R}/logs/seed{{seed}}/merge_embeddings_{{model}}.log",
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/merge_embeddings.py"

    rule merge_rerank:
        input:
            runs=parts(seed_dir("runs/{approach}.tsv")),
            latency=parts(seed_dir("latency/{approach}.tsv")),
        output:
            run=seed_dir("runs/{approach}.tsv"),
            latency=seed_dir("latency/{approach}.tsv"),
        wildcard_constraints:
            approach=names_of("rerank"),
        log:
            f"{R}/logs/seed{{seed}}/merge_run_{{approach}}.log",
        localrule: True
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/merge_runs.py"

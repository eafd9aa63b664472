# Shards (config `shards: N` > 1): join the parts of encode_products and rerank (cluster.smk).


if SHARDS > 1:

    rule merge_embeddings:
        input:
            parts=parts(corpus_dir("embeddings/{model}.npy"), ".npz"),
        output:
            embeddings=corpus_dir("embeddings/{model}.npy"),
        log:
            f"{R}/logs/{{corpus}}/merge_embeddings_{{model}}.log",
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/step.py"

    rule merge_rerank:
        input:
            runs=parts(seed_dir("runs/{approach}.tsv")),
            latency=parts(seed_dir("latency/{approach}.tsv")),
        output:
            run=seed_dir("runs/{approach}.tsv"),
            latency=seed_dir("latency/{approach}.tsv"),
        log:
            f"{R}/logs/seed{{seed}}/merge_run_{{approach}}.log",
        wildcard_constraints:
            approach=names_of("rerank"),
        localrule: True
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/step.py"

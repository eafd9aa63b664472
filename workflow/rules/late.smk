# Late interaction (ColBERT-style models, kind late-interaction): token vectors once per corpus
# and model (sharded like product embeddings), query token vectors per seed, the token
# candidate index of ivf searches, and the two approach types: late-rerank and late-interaction.


rule encode_tokens:
    input:
        corpus=corpus_dir("corpus.parquet"),
        weights=lambda w: model_weights(MODELS[w.model]),
    output:
        **(
            {
                "tokens": corpus_dir("tokens/{model}.npy"),
                "lengths": corpus_dir("tokens/{model}.lengths.npy"),
            }
            if SHARDS == 1
            else {"part": part_output(corpus_dir("tokens/{model}.npy"), ".npz")}
        ),
    log:
        part(f"{R}/logs/{{corpus}}/encode_tokens_{{model}}.log"),
    wildcard_constraints:
        model=regex(LATE_MODELS),
    conda:
        "../../envs/retrieve.yaml"
    threads: MODEL_THREADS
    resources:
        gpu=GPUS,
        cpus_per_task=lambda wildcards, threads: threads,
    params:
        **model_params("path", "batch_size", "max_length", "precision", "stand_in"),
        device=config["device"],
        shard=shard_of,
        shards=SHARDS,
    script:
        "../scripts/step.py"


if SHARDS > 1:

    rule merge_tokens:
        input:
            parts=parts(corpus_dir("tokens/{model}.npy"), ".npz"),
        output:
            tokens=corpus_dir("tokens/{model}.npy"),
            lengths=corpus_dir("tokens/{model}.lengths.npy"),
        log:
            f"{R}/logs/{{corpus}}/merge_tokens_{{model}}.log",
        wildcard_constraints:
            model=regex(LATE_MODELS),
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/step.py"


rule encode_query_tokens:
    input:
        queries=seed_dir("queries.tsv"),
        normalized=lambda w: (
            [f"{R}/seed{w.seed}/queries/{QSETS[w.qset]}.tsv"] if QSETS[w.qset] else []
        ),
        weights=lambda w: model_weights(MODELS[w.model]),
    output:
        tokens=seed_dir("query_tokens/{model}.{qset}.npz"),
        seconds=seed_dir("latency/query_tokens/{model}.{qset}.tsv"),
    log:
        f"{R}/logs/seed{{seed}}/encode_query_tokens_{{model}}.{{qset}}.log",
    wildcard_constraints:
        model=regex(LATE_MODELS),
    conda:
        "../../envs/retrieve.yaml"
    threads: MODEL_THREADS
    resources:
        gpu=GPUS,
        cpus_per_task=lambda wildcards, threads: threads,
    params:
        **model_params("path", "max_length", "precision", "stand_in"),
        device=config["device"],
    script:
        "../scripts/step.py"


rule token_index:
    input:
        tokens=lambda w: f"{R}/{w.corpus}/tokens/{APPROACHES[w.approach]['model']}.npy",
    output:
        index=corpus_dir("token_index/{approach}.faiss"),
    log:
        f"{R}/logs/{{corpus}}/token_index_{{approach}}.log",
    wildcard_constraints:
        approach=names_of("late-interaction"),
    conda:
        "../../envs/retrieve.yaml"
    threads: 4
    resources:
        cpus_per_task=lambda wildcards, threads: threads,
    params:
        **approach_params("nlist"),
    script:
        "../scripts/step.py"


rule late_rerank:
    input:
        unpack(late_files),
        run=lambda w: f"{R}/seed{w.seed}/runs/{APPROACHES[w.approach]['run']}.tsv",
        corpus=CORPUS,
        queries=seed_dir("queries.tsv"),
    output:
        run=seed_dir("runs/{approach}.tsv"),
        latency=seed_dir("latency/{approach}.tsv"),
    log:
        f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
    wildcard_constraints:
        approach=names_of("late-rerank"),
    conda:
        "../../envs/retrieve.yaml"
    params:
        **approach_params("depth"),
    script:
        "../scripts/step.py"


rule late_search:
    input:
        unpack(late_files),
        index=lambda w: (
            [corpus_of(w, f"token_index/{w.approach}.faiss")]
            if APPROACHES[w.approach]["search"] == "ivf"
            else []
        ),
        corpus=CORPUS,
        queries=seed_dir("queries.tsv"),
        candidates=candidates,
    output:
        run=seed_dir("runs/{approach}.tsv"),
        latency=seed_dir("latency/{approach}.tsv"),
    log:
        f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
    wildcard_constraints:
        approach=names_of("late-interaction"),
    conda:
        "../../envs/retrieve.yaml"
    threads: 4
    resources:
        cpus_per_task=lambda wildcards, threads: threads,
    params:
        **approach_params("k", "search", "nprobe", "token_k"),
        latency_queries=LATENCY_QUERIES,
    script:
        "../scripts/step.py"

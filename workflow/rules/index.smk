# Dense indexing: per-model embeddings (corpus and queries) and FAISS index, shared by every
# approach using the model. The queries are encoded here, in the job that loads the model, so
# dense search needs no model: a k or efSearch change reruns only the search.


rule encode:
    input:
        corpus=seed_dir("corpus.parquet"),
        queries=seed_dir("queries.tsv"),
        fields=fields_input(lambda w: MODELS[w.model]["fields"]),
    output:
        **encode_outputs(),
    wildcard_constraints:
        model=models_of(per_seed_corpus=True),
    params:
        path=lambda w: MODELS[w.model]["path"],
        document_prefix=lambda w: MODELS[w.model]["document_prefix"],
        query_prefix=lambda w: MODELS[w.model]["query_prefix"],
        batch_size=lambda w: MODELS[w.model]["batch_size"],
        max_length=lambda w: MODELS[w.model]["max_length"],
        precision=lambda w: MODELS[w.model]["precision"],
        fields=lambda w: MODELS[w.model]["fields"],
        device=config["device"],
        shard=shard_of,
        shards=SHARDS,
    threads: MODEL_THREADS
    priority: lambda w: critical_priority(models=[w.model])
    resources:
        gpu=GPUS,
        cpus_per_task=lambda wildcards, threads: threads,
    log:
        part(f"{R}/logs/seed{{seed}}/encode_{{model}}.log"),
    conda:
        "../../envs/retrieve.yaml"
    script:
        "../scripts/encode.py"


rule index:
    input:
        embeddings=seed_dir("embeddings/{model}.npy"),
    output:
        index=seed_dir("index/{model}.faiss"),
    params:
        index=lambda w: MODELS[w.model]["index"],
        hnsw_m=hnsw_setting("hnsw_m"),
        ef_construction=hnsw_setting("ef_construction"),
    priority: lambda w: critical_priority(models=[w.model])
    log:
        f"{R}/logs/seed{{seed}}/index_{{model}}.log",
    conda:
        "../../envs/retrieve.yaml"
    script:
        "../scripts/index.py"


rule encode_queries:
    input:
        queries=seed_dir("queries.tsv"),
        normalized=seed_dir("queries/{qnorm}.tsv"),
    output:
        embeddings=seed_dir("embeddings/{model}.q-{qnorm}.npy"),
        seconds=seed_dir("latency/queries/{model}.q-{qnorm}.tsv"),
    wildcard_constraints:
        qnorm="|".join(map(re.escape, QNORMS)) or "(?!)",
    params:
        path=lambda w: MODELS[w.model]["path"],
        query_prefix=lambda w: MODELS[w.model]["query_prefix"],
        max_length=lambda w: MODELS[w.model]["max_length"],
        device=config["device"],
    threads: 4
    resources:
        gpu=GPUS,
        cpus_per_task=lambda wildcards, threads: threads,
    log:
        f"{R}/logs/seed{{seed}}/encode_queries_{{model}}_{{qnorm}}.log",
    conda:
        "../../envs/retrieve.yaml"
    script:
        "../scripts/encode_queries.py"

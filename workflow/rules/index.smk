# Encoding and indexes. Product embeddings, FAISS and BM25 indexes are built once per corpus
# (per experiment in the catalogue protocol, per seed otherwise) and shared by every approach
# using them; queries are encoded per seed, in their own job, so dense search needs no model.
# Models that differ only in their index share one encoding (ENCODING_OF, common.smk).


rule encode_products:
    input:
        corpus=corpus_dir("corpus.parquet"),
        fields=lambda w: (
            [f"{R}/{w.corpus}/fields.parquet"] if MODELS[w.model]["fields"] else []
        ),
        weights=lambda w: model_weights(MODELS[w.model], w),
    output:
        **(
            {"embeddings": corpus_dir("embeddings/{model}.npy")}
            if SHARDS == 1
            else {"part": part_output(corpus_dir("embeddings/{model}.npy"), ".npz")}
        ),
    log:
        part(f"{R}/logs/{{corpus}}/encode_{{model}}.log"),
    priority: lambda w: critical_priority(models=[w.model])
    conda:
        "../../envs/retrieve.yaml"
    threads: MODEL_THREADS
    resources:
        gpu=GPUS,
        cpus_per_task=lambda wildcards, threads: threads,
    params:
        **model_params(
            "path", "document_prefix", "batch_size", "max_length", "precision"
        ),
        dtype=lambda w: MODELS[w.model]["embedding_dtype"],
        model_fields=lambda w: MODELS[w.model]["fields"],
        device=config["device"],
        shard=shard_of,
        shards=SHARDS,
    script:
        "../scripts/step.py"


rule encode_queries:
    input:
        queries=seed_dir("queries.tsv"),
        normalized=lambda w: (
            [f"{R}/seed{w.seed}/queries/{QSETS[w.qset]}.tsv"] if QSETS[w.qset] else []
        ),
        weights=lambda w: model_weights(MODELS[w.model], w),
    output:
        embeddings=seed_dir("query_embeddings/{model}.{qset}.npy"),
        seconds=seed_dir("latency/queries/{model}.{qset}.tsv"),
    log:
        f"{R}/logs/seed{{seed}}/encode_queries_{{model}}.{{qset}}.log",
    priority: lambda w: critical_priority(models=[w.model])
    conda:
        "../../envs/retrieve.yaml"
    threads: MODEL_THREADS
    resources:
        gpu=GPUS,
        cpus_per_task=lambda wildcards, threads: threads,
    params:
        **model_params("path", "query_prefix", "max_length", "precision"),
        device=config["device"],
    script:
        "../scripts/step.py"


rule index:
    input:
        embeddings=lambda w: f"{R}/{w.corpus}/embeddings/{encoding_of(w)}.npy",
    output:
        index=corpus_dir("index/{model}.faiss"),
    log:
        f"{R}/logs/{{corpus}}/index_{{model}}.log",
    priority: lambda w: critical_priority(models=[w.model])
    conda:
        retrieve_env
    threads: lucene_threads(1)
    params:
        index=lambda w: MODELS[w.model]["index"],
        hnsw_m=hnsw_setting("hnsw_m"),
        ef_construction=hnsw_setting("ef_construction"),
    script:
        "../scripts/step.py"


rule bm25_index:
    input:
        corpus=corpus_dir("corpus.parquet"),
        fields_file=lambda w: (
            [f"{R}/{w.corpus}/fields.parquet"]
            if BM25_INDEXES[w.bm25]["fields"]
            else []
        ),
    output:
        index=directory(corpus_dir("bm25/{bm25}")),
    log:
        f"{R}/logs/{{corpus}}/bm25_index_{{bm25}}.log",
    wildcard_constraints:
        bm25=regex(BM25_INDEXES),
    conda:
        retrieve_env
    threads: lucene_threads(1)
    params:
        **{
            key: (lambda w, key=key: BM25_INDEXES[w.bm25][key])
            for key in (*BM25_KEYS, "fields")
        },
    script:
        "../scripts/step.py"

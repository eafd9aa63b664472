# Retrieval: one rule per approach type; every approach writes runs/<name>.tsv and its latency.
# First-stage searches (dense, bm25) go through the backends' one interface, batched, in every
# protocol; fusion and rerank turn runs into a run.


rule dense:
    input:
        index=lambda w: corpus_of(w, f"index/{model_of(w)['name']}.faiss"),
        query_embeddings=lambda w: f"{R}/seed{w.seed}/query_embeddings/{encoding_of(w)}.{query_set(w)}.npy",
        query_seconds=lambda w: f"{R}/seed{w.seed}/latency/queries/{encoding_of(w)}.{query_set(w)}.tsv",
        corpus=CORPUS,
        queries=seed_dir("queries.tsv"),
        candidates=candidates,
    output:
        run=seed_dir("runs/{approach}.tsv"),
        latency=seed_dir("latency/{approach}.tsv"),
    log:
        f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
    wildcard_constraints:
        approach=names_of("dense"),
    priority: lambda w: critical_priority(approaches=[w.approach])
    conda:
        retrieve_env
    threads: 4
    resources:
        cpus_per_task=lambda wildcards, threads: threads,
    params:
        **approach_params("k"),
        backend=lambda w: model_of(w)["index"],
        ef_search=lambda w: (
            model_of(w)["ef_search"]
            if model_of(w)["index"] in ("hnsw", "lucene_hnsw")
            else None
        ),
        latency_queries=LATENCY_QUERIES,
    script:
        "../scripts/step.py"


rule bm25:
    input:
        index=lambda w: corpus_of(w, f"bm25/{BM25_INDEX_OF[w.approach]}"),
        corpus=CORPUS,
        queries=seed_dir("queries.tsv"),
        normalized=normalized_queries,
        candidates=candidates,
    output:
        run=seed_dir("runs/{approach}.tsv"),
        latency=seed_dir("latency/{approach}.tsv"),
        analysis=seed_dir("analysis/{approach}.json"),
    log:
        f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
    wildcard_constraints:
        approach=names_of("bm25"),
    priority: lambda w: critical_priority(approaches=[w.approach])
    conda:
        retrieve_env
    threads: lucene_threads(1)
    params:
        **approach_params(
            "k", "backend", "analyzer", "pad_zero_scores", "ties", "fields"
        ),
        latency_queries=LATENCY_QUERIES,
    script:
        "../scripts/step.py"


rule fusion:
    input:
        runs=lambda w: [
            f"{R}/seed{w.seed}/runs/{name}.tsv"
            for name in APPROACHES[w.approach]["runs"]
        ],
    output:
        run=seed_dir("runs/{approach}.tsv"),
        latency=seed_dir("latency/{approach}.tsv"),
    log:
        f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
    wildcard_constraints:
        approach=names_of("fusion"),
    priority: lambda w: critical_priority(approaches=[w.approach])
    conda:
        "../../envs/retrieve.yaml"
    params:
        **approach_params(
            "k", "depth", "method", "weights", "normalization", "ties", "size"
        ),
    script:
        "../scripts/step.py"


rule rerank:
    input:
        run=lambda w: f"{R}/seed{w.seed}/runs/{APPROACHES[w.approach]['run']}.tsv",
        corpus=CORPUS,
        queries=seed_dir("queries.tsv"),
        normalized=normalized_queries,
        weights=lambda w: model_weights(model_of(w), w),
    output:
        run=part_output(seed_dir("runs/{approach}.tsv")),
        latency=part_output(seed_dir("latency/{approach}.tsv")),
    log:
        part(f"{R}/logs/seed{{seed}}/run_{{approach}}.log"),
    wildcard_constraints:
        approach=names_of("rerank"),
    priority: lambda w: critical_priority(approaches=[w.approach])
    conda:
        "../../envs/retrieve.yaml"
    threads: MODEL_THREADS
    resources:
        gpu=GPUS,
        cpus_per_task=lambda wildcards, threads: threads,
    params:
        **model_params("path", "max_length", "batch_size", "precision", of=model_of),
        **approach_params("depth"),
        model=lambda w: model_of(w)["name"],
        device=config["device"],
        shard=shard_of,
        shards=SHARDS,
    script:
        "../scripts/step.py"

# Dense indexing: per-model embeddings (corpus and queries) and FAISS index, shared by every
# approach using the model. The queries are encoded here, in the job that loads the model, so
# dense search needs no model: a k or efSearch change reruns only the search.


rule encode:
    input:
        corpus=seed_dir("corpus.parquet"),
        queries=seed_dir("queries.tsv"),
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
        device=config["device"],
        shard=shard_of,
        shards=SHARDS,
    threads: 4
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
    log:
        f"{R}/logs/seed{{seed}}/index_{{model}}.log",
    conda:
        "../../envs/retrieve.yaml"
    script:
        "../scripts/index.py"

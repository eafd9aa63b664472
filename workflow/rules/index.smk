# Dense indexing: per-model embeddings and FAISS index, shared by every approach using the model.


rule encode:
    input:
        corpus=seed_dir("corpus.parquet"),
    output:
        embeddings=seed_dir("embeddings/{model}.npy"),
    params:
        path=lambda w: MODELS[w.model]["path"],
        document_prefix=lambda w: MODELS[w.model]["document_prefix"],
        batch_size=lambda w: MODELS[w.model]["batch_size"],
        max_length=lambda w: MODELS[w.model]["max_length"],
        device=config["device"],
    threads: 4
    log:
        f"{R}/logs/seed{{seed}}/encode_{{model}}.log",
    script:
        "../scripts/encode.py"


rule index:
    input:
        embeddings=seed_dir("embeddings/{model}.npy"),
    output:
        index=seed_dir("index/{model}.faiss"),
    log:
        f"{R}/logs/seed{{seed}}/index_{{model}}.log",
    script:
        "../scripts/index.py"

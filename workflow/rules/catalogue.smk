# catalogue protocol: the corpus is the whole catalogue of a locale, the same for every seed, so
# it, each model's product embeddings, each FAISS index and each bm25s index are built once per
# experiment under results/<name>/catalogue/; each seed only samples and encodes its queries and
# searches. See shopbench.catalogue.
C = f"{R}/catalogue"
LATENCY_QUERIES = config["latency_queries"]


if CATALOGUE:

    rule catalogue_corpus:
        input:
            products=config["data"]["products"],
        output:
            corpus=f"{C}/corpus.parquet",
        params:
            fields=config["text"]["fields"],
            locale=SAMPLING["locale"],
        log:
            f"{R}/logs/catalogue/corpus.log",
        conda:
            "../../envs/data.yaml"
        script:
            "../scripts/catalogue_corpus.py"

    rule encode_products:
        input:
            corpus=f"{C}/corpus.parquet",
        output:
            **(
                {"embeddings": f"{C}/embeddings/{{model}}.npy"}
                if SHARDS == 1
                else {"part": part_output(f"{C}/embeddings/{{model}}.npy", ".npz")}
            ),
        params:
            path=lambda w: MODELS[w.model]["path"],
            document_prefix=lambda w: MODELS[w.model]["document_prefix"],
            batch_size=lambda w: MODELS[w.model]["batch_size"],
            max_length=lambda w: MODELS[w.model]["max_length"],
            precision=lambda w: MODELS[w.model]["precision"],
            dtype=lambda w: MODELS[w.model]["embedding_dtype"],
            device=config["device"],
            shard=shard_of,
            shards=SHARDS,
        threads: MODEL_THREADS
        resources:
            gpu=GPUS,
            cpus_per_task=lambda wildcards, threads: threads,
        log:
            part(f"{R}/logs/catalogue/encode_{{model}}.log"),
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/encode_products.py"

    if SHARDS > 1:

        rule merge_products:
            input:
                parts=parts(f"{C}/embeddings/{{model}}.npy", ".npz"),
            output:
                embeddings=f"{C}/embeddings/{{model}}.npy",
            log:
                f"{R}/logs/catalogue/merge_embeddings_{{model}}.log",
            conda:
                "../../envs/retrieve.yaml"
            script:
                "../scripts/merge_products.py"

    rule encode_catalogue_queries:
        input:
            queries=seed_dir("queries.tsv"),
        output:
            queries=seed_dir("embeddings/{model}.queries.npy"),
            seconds=seed_dir("latency/queries/{model}.tsv"),
        params:
            path=lambda w: MODELS[w.model]["path"],
            query_prefix=lambda w: MODELS[w.model]["query_prefix"],
            max_length=lambda w: MODELS[w.model]["max_length"],
            precision=lambda w: MODELS[w.model]["precision"],
            device=config["device"],
        threads: MODEL_THREADS
        resources:
            gpu=GPUS,
            cpus_per_task=lambda wildcards, threads: threads,
        log:
            f"{R}/logs/seed{{seed}}/encode_catalogue_queries_{{model}}.log",
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/encode_catalogue_queries.py"

    rule catalogue_index:
        input:
            embeddings=f"{C}/embeddings/{{model}}.npy",
        output:
            index=f"{C}/index/{{model}}.faiss",
        params:
            index=lambda w: MODELS[w.model]["index"],
            hnsw_m=hnsw_setting("hnsw_m"),
            ef_construction=hnsw_setting("ef_construction"),
        log:
            f"{R}/logs/catalogue/index_{{model}}.log",
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/catalogue_index.py"

    rule bm25_index:
        input:
            corpus=f"{C}/corpus.parquet",
        output:
            index=directory(f"{C}/bm25/{{approach}}"),
        wildcard_constraints:
            approach=bm25s_names(),
        params:
            k1=lambda w: APPROACHES[w.approach]["k1"],
            b=lambda w: APPROACHES[w.approach]["b"],
            analyzer=lambda w: APPROACHES[w.approach]["analyzer"],
        log:
            f"{R}/logs/catalogue/bm25_index_{{approach}}.log",
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/bm25_index.py"

    rule dense_catalogue:
        input:
            index=lambda w: f"{C}/index/{model_of(w)['name']}.faiss",
            query_embeddings=lambda w: (
                f"{R}/seed{w.seed}/embeddings/{model_of(w)['name']}.queries.npy"
            ),
            query_seconds=lambda w: f"{R}/seed{w.seed}/latency/queries/{model_of(w)['name']}.tsv",
            corpus=f"{C}/corpus.parquet",
            queries=seed_dir("queries.tsv"),
        output:
            run=seed_dir("runs/{approach}.tsv"),
            latency=seed_dir("latency/{approach}.tsv"),
        wildcard_constraints:
            approach=names_of("dense"),
        params:
            k=lambda w: APPROACHES[w.approach]["k"],
            ef_search=lambda w: (
                model_of(w)["ef_search"] if model_of(w)["index"] == "hnsw" else None
            ),
            latency_queries=LATENCY_QUERIES,
        threads: 4
        resources:
            cpus_per_task=lambda wildcards, threads: threads,
        log:
            f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/dense_catalogue.py"

    rule bm25_catalogue:
        input:
            unpack(
                lambda w: (
                    {"index": f"{C}/bm25/{w.approach}"}
                    if APPROACHES[w.approach]["backend"] == "bm25s"
                    else {}
                )
            ),
            corpus=f"{C}/corpus.parquet",
            queries=seed_dir("queries.tsv"),
        output:
            run=seed_dir("runs/{approach}.tsv"),
            latency=seed_dir("latency/{approach}.tsv"),
            analysis=seed_dir("analysis/{approach}.json"),
        wildcard_constraints:
            approach=names_of("bm25"),
        params:
            k=lambda w: APPROACHES[w.approach]["k"],
            k1=lambda w: APPROACHES[w.approach]["k1"],
            b=lambda w: APPROACHES[w.approach]["b"],
            backend=lambda w: APPROACHES[w.approach]["backend"],
            analyzer=lambda w: APPROACHES[w.approach]["analyzer"],
            pad_zero_scores=lambda w: APPROACHES[w.approach]["pad_zero_scores"],
            ties=lambda w: APPROACHES[w.approach]["ties"],
            latency_queries=LATENCY_QUERIES,
        log:
            f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
        conda:
            "../../envs/retrieve.yaml"
        script:
            "../scripts/bm25_catalogue.py"

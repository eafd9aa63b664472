# Retrieval: one rule per approach type; every approach writes runs/<name>.tsv and its latency.


rule dense:
    input:
        index=lambda w: f"{R}/seed{w.seed}/index/{model_of(w)['name']}.faiss",
        embeddings=lambda w: f"{R}/seed{w.seed}/embeddings/{model_of(w)['name']}.npy",
        query_embeddings=lambda w: (
            f"{R}/seed{w.seed}/embeddings/{model_of(w)['name']}.queries.npy"
            if not qnorm_of(w)
            else f"{R}/seed{w.seed}/embeddings/{model_of(w)['name']}.q-{qnorm_of(w)}.npy"
        ),
        query_seconds=lambda w: (
            f"{R}/seed{w.seed}/latency/queries/{model_of(w)['name']}.tsv"
            if not qnorm_of(w)
            else f"{R}/seed{w.seed}/latency/queries/{model_of(w)['name']}.q-{qnorm_of(w)}.tsv"
        ),
        corpus=seed_dir("corpus.parquet"),
        queries=seed_dir("queries.tsv"),
        candidates=seed_dir("candidates.tsv"),
    output:
        run=seed_dir("runs/{approach}.tsv"),
        latency=seed_dir("latency/{approach}.tsv"),
    wildcard_constraints:
        approach=names_of("dense", per_seed_corpus=True),
    params:
        k=lambda w: APPROACHES[w.approach]["k"],
        ef_search=lambda w: (
            model_of(w)["ef_search"] if model_of(w)["index"] == "hnsw" else None
        ),
    threads: 4
    priority: lambda w: critical_priority(approaches=[w.approach])
    resources:
        cpus_per_task=lambda wildcards, threads: threads,
    log:
        f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
    conda:
        "../../envs/retrieve.yaml"
    script:
        "../scripts/dense.py"


rule bm25:
    input:
        corpus=seed_dir("corpus.parquet"),
        queries=seed_dir("queries.tsv"),
        candidates=seed_dir("candidates.tsv"),
        fields=fields_input(lambda w: APPROACHES[w.approach]["fields"]),
        normalized=normalized_queries,
    output:
        run=seed_dir("runs/{approach}.tsv"),
        latency=seed_dir("latency/{approach}.tsv"),
        analysis=seed_dir("analysis/{approach}.json"),
    wildcard_constraints:
        approach=names_of("bm25", per_seed_corpus=True),
    params:
        k=lambda w: APPROACHES[w.approach]["k"],
        k1=lambda w: APPROACHES[w.approach]["k1"],
        b=lambda w: APPROACHES[w.approach]["b"],
        backend=lambda w: APPROACHES[w.approach]["backend"],
        analyzer=lambda w: APPROACHES[w.approach]["analyzer"],
        pad_zero_scores=lambda w: APPROACHES[w.approach]["pad_zero_scores"],
        ties=lambda w: APPROACHES[w.approach]["ties"],
        fields=lambda w: APPROACHES[w.approach]["fields"],
    priority: lambda w: critical_priority(approaches=[w.approach])
    log:
        f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
    conda:
        "../../envs/retrieve.yaml"
    script:
        "../scripts/bm25.py"


rule fusion:
    input:
        runs=lambda w: [
            f"{R}/seed{w.seed}/runs/{name}.tsv" for name in APPROACHES[w.approach]["runs"]
        ],
    output:
        run=seed_dir("runs/{approach}.tsv"),
        latency=seed_dir("latency/{approach}.tsv"),
    wildcard_constraints:
        approach=names_of("fusion"),
    params:
        k=lambda w: APPROACHES[w.approach]["k"],
        depth=lambda w: APPROACHES[w.approach]["depth"],
        method=lambda w: APPROACHES[w.approach]["method"],
        weights=lambda w: APPROACHES[w.approach]["weights"],
        normalization=lambda w: APPROACHES[w.approach]["normalization"],
        ties=lambda w: APPROACHES[w.approach]["ties"],
    priority: lambda w: critical_priority(approaches=[w.approach])
    log:
        f"{R}/logs/seed{{seed}}/run_{{approach}}.log",
    conda:
        "../../envs/retrieve.yaml"
    script:
        "../scripts/fusion.py"


rule rerank:
    input:
        run=lambda w: f"{R}/seed{w.seed}/runs/{APPROACHES[w.approach]['run']}.tsv",
        corpus=CORPUS,
        queries=seed_dir("queries.tsv"),
        normalized=normalized_queries,
    output:
        run=part_output(seed_dir("runs/{approach}.tsv")),
        latency=part_output(seed_dir("latency/{approach}.tsv")),
    wildcard_constraints:
        approach=names_of("rerank"),
    params:
        model=lambda w: model_of(w)["name"],
        path=lambda w: model_of(w)["path"],
        max_length=lambda w: model_of(w)["max_length"],
        batch_size=lambda w: model_of(w)["batch_size"],
        precision=lambda w: model_of(w)["precision"],
        depth=lambda w: APPROACHES[w.approach]["depth"],
        device=config["device"],
        shard=shard_of,
        shards=SHARDS,
    threads: MODEL_THREADS
    priority: lambda w: critical_priority(approaches=[w.approach])
    resources:
        gpu=GPUS,
        cpus_per_task=lambda wildcards, threads: threads,
    log:
        part(f"{R}/logs/seed{{seed}}/run_{{approach}}.log"),
    conda:
        "../../envs/retrieve.yaml"
    script:
        "../scripts/rerank.py"

# Product text: the corpus each protocol searches, and per-query candidates for task1-rerank.


rule corpus:
    input:
        examples=config["data"]["examples"],
        products=config["data"]["products"],
        sample=seed_dir("sample.parquet"),
    output:
        corpus=seed_dir("corpus.parquet"),
        candidates=seed_dir("candidates.tsv"),
    params:
        protocol=config["protocol"],
        fields=config["text"]["fields"],
        locale=SAMPLING["locale"],
        distractors=config["distractors"] if config["protocol"] == "judged-pool" else 0,
    log:
        f"{R}/logs/seed{{seed}}/corpus.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/corpus.py"

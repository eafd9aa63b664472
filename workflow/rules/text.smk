# Product text: the corpus each protocol searches, and per-query candidates for task1-rerank.
from shopbench.normalize import dictionary_files


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


rule fields:
    input:
        products=config["data"]["products"],
        corpus=seed_dir("corpus.parquet"),
    output:
        fields=seed_dir("fields.parquet"),
    params:
        locale=SAMPLING["locale"],
    log:
        f"{R}/logs/seed{{seed}}/fields.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/fields.py"


rule normalize_queries:
    input:
        queries=seed_dir("queries.tsv"),
        corpus=seed_dir("corpus.parquet"),
        dictionary=lambda w: dictionary_files(QNORMS[w.qnorm]),
    output:
        seed_dir("queries/{qnorm}.tsv"),
    wildcard_constraints:
        qnorm="|".join(map(re.escape, QNORMS)) or "(?!)",
    params:
        spec=lambda w: QNORMS[w.qnorm],
    log:
        f"{R}/logs/seed{{seed}}/normalize_queries_{{qnorm}}.log",
    conda:
        "../../envs/retrieve.yaml"
    script:
        "../scripts/normalize_queries.py"

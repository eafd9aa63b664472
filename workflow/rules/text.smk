# Corpus: the products the protocol searches (the one step that differs between protocols),
# their fields, and the normalized queries.


rule corpus:
    input:
        **(
            {}
            if CATALOGUE
            else {
                "examples": config["data"]["examples"],
                "sample": f"{R}/{{corpus}}/sample.parquet",
            }
        ),
        products=config["data"]["products"],
    output:
        **({} if CATALOGUE else {"candidates": corpus_dir("candidates.tsv")}),
        corpus=corpus_dir("corpus.parquet"),
    log:
        f"{R}/logs/{{corpus}}/corpus.log",
    conda:
        "../../envs/data.yaml"
    params:
        protocol=config["protocol"],
        fields=config["text"]["fields"],
        locale=SAMPLING["locale"],
        distractors=config["distractors"] if config["protocol"] == "judged-pool" else 0,
        seed=lambda w: None if CATALOGUE else int(w.corpus.removeprefix("seed")),
    script:
        "../scripts/step.py"


rule fields:
    input:
        products=config["data"]["products"],
        corpus=corpus_dir("corpus.parquet"),
    output:
        fields=corpus_dir("fields.parquet"),
    log:
        f"{R}/logs/{{corpus}}/fields.log",
    conda:
        "../../envs/data.yaml"
    params:
        locale=SAMPLING["locale"],
    script:
        "../scripts/step.py"


rule normalize_queries:
    input:
        queries=seed_dir("queries.tsv"),
        corpus=CORPUS,
        dictionary=lambda w: dictionary_files(QNORMS[w.qnorm]),
    output:
        queries=seed_dir("queries/{qnorm}.tsv"),
    log:
        f"{R}/logs/seed{{seed}}/normalize_queries_{{qnorm}}.log",
    wildcard_constraints:
        qnorm=regex(QNORMS),
    conda:
        "../../envs/retrieve.yaml"
    params:
        spec=lambda w: QNORMS[w.qnorm],
    script:
        "../scripts/step.py"

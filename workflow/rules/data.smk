# Data: optional download of the official files, then sampling and qrels per seed.


if config["data"]["download"]:
    for _what in ("examples", "products"):

        rule:
            name:
                f"download_{_what}"
            output:
                config["data"][_what],
            params:
                url=config["data"][f"{_what}_url"],
                sha256=config["data"][f"{_what}_sha256"],
                size=config["data"][f"{_what}_size"],
            log:
                f"{R}/logs/download_{_what}.log",
            localrule: True
            conda:
                "../../envs/data.yaml"
            script:
                "../scripts/download.py"


rule sample:
    input:
        examples=config["data"]["examples"],
    output:
        sample=seed_dir("sample.parquet"),
        qrels=seed_dir("qrels.tsv"),
        queries=seed_dir("queries.tsv"),
    params:
        locale=SAMPLING["locale"],
        labels=SAMPLING["labels"],
        n_queries=SAMPLING["n_queries"],
        n_rows=SAMPLING["n_rows"],
        on_too_few_queries=SAMPLING["on_too_few_queries"],
        protocol=config["protocol"],
        split=SAMPLING["split"],
        version=SAMPLING["version"],
    log:
        f"{R}/logs/seed{{seed}}/sample.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/sample.py"

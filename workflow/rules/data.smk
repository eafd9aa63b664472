# Data: optional download of the official files, then sampling and qrels per seed.


if config["data"]["download"]:
    for _what in ("examples", "products"):

        rule:
            name:
                f"download_{_what}"
            output:
                file=config["data"][_what],
            log:
                f"{R}/logs/download_{_what}.log",
            localrule: True
            conda:
                "../../envs/data.yaml"
            params:
                url=config["data"][f"{_what}_url"],
                sha256=config["data"][f"{_what}_sha256"],
                size=config["data"][f"{_what}_size"],
            script:
                "../scripts/step.py"


rule sample:
    input:
        examples=config["data"]["examples"],
    output:
        sample=seed_dir("sample.parquet"),
        qrels=seed_dir("qrels.tsv"),
        queries=seed_dir("queries.tsv"),
        sampling=seed_dir("sampling.json"),
    log:
        f"{R}/logs/seed{{seed}}/sample.log",
    conda:
        "../../envs/data.yaml"
    params:
        **(
            {
                "folds": SAMPLING.get("folds"),
                "fold_seed": SAMPLING.get("fold_seed", 42),
            }
            if SAMPLING.get("folds")
            else {}
        ),
        locale=SAMPLING["locale"],
        labels=SAMPLING["labels"],
        n_queries=SAMPLING["n_queries"],
        n_rows=SAMPLING["n_rows"],
        on_too_few_queries=SAMPLING["on_too_few_queries"],
        protocol=config["protocol"],
        split=SAMPLING["split"],
        version=SAMPLING["version"],
        # only with folds, so that the params of existing samples stay as they were
    script:
        "../scripts/step.py"

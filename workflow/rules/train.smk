# Training: a model with `train` in the config is fine-tuned by the train rule (steps/train.py,
# src/shopbench/train.py) into a folder that encode and rerank then load like any model. With
# sampling.folds each seed (fold) has its own model, trained without that fold's queries.


if TRAINED:

    rule train:
        input:
            examples=config["data"]["examples"],
            products=config["data"]["products"],
            evaluated=evaluated_queries,
            base_weights=train_base_weights,
            mine_weights=train_mine_weights,
        output:
            model=directory(
                f"{R}/seed{{seed}}/models/{{model}}"
                if FOLDS
                else f"{R}/models/{{model}}"
            ),
            curve=report(
                (
                    f"{R}/plots/training/{{model}}.seed{{seed}}.png"
                    if FOLDS
                    else f"{R}/plots/training/{{model}}.png"
                ),
                category="Plots",
                caption="../report/plot_training.rst",
                labels={"plot": "training loss"},
            ),
        log:
            (
                f"{R}/logs/seed{{seed}}/train_{{model}}.log"
                if FOLDS
                else f"{R}/logs/train_{{model}}.log"
            ),
        wildcard_constraints:
            model=regex(TRAINED),
        conda:
            "../../envs/retrieve.yaml"
        threads: MODEL_THREADS
        resources:
            gpu=GPUS,
            cpus_per_task=lambda wildcards, threads: threads,
        params:
            settings=train_job_settings,
            base_path=train_base,
            kind=lambda w: MODELS[w.model]["kind"],
            query_prefix=lambda w: MODELS[w.model]["query_prefix"],
            document_prefix=lambda w: MODELS[w.model]["document_prefix"],
            exclude_evaluated=bool(FOLDS),
            device=config["device"],
            dpi=config["report"]["dpi"],
        script:
            "../scripts/step.py"

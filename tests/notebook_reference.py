"""The origin notebook's sampling and product text, written out as the notebook does them:
the references the sampling and workflow tests compare shopbench with."""

import numpy as np
import pandas as pd


def notebook_sample(examples, seed=42, n_queries=50, n_rows=500):
    """Cell 2 of the notebook, verbatim in behaviour (global numpy seed)."""
    filtered = examples[(examples["product_locale"] == "us") & (examples["esci_label"] == "E")].copy()
    np.random.seed(seed)
    query_ids = filtered["query_id"].unique()
    sampled_qids = np.random.choice(query_ids, size=n_queries, replace=False)
    subset = filtered[filtered["query_id"].isin(sampled_qids)]
    return subset.sample(n=min(n_rows, len(subset)), random_state=seed)


def notebook_text(sample, products):
    """Cell 3 of the notebook."""
    keys = sample[["product_id", "product_locale"]].drop_duplicates()
    prod = keys.merge(products[["product_id", "product_locale", "product_title", "product_brand",
                                "product_bullet_point", "product_description"]],
                      on=["product_id", "product_locale"], how="left")
    cols = ["product_title", "product_brand", "product_bullet_point", "product_description"]
    prod["product_text"] = prod[cols].fillna("").agg(" ".join, axis=1)
    prod["product_text"] = prod["product_text"].str.replace(r"\s+", " ", regex=True).str.strip()
    return prod[prod["product_text"].str.len() > 0]

"""End to end on the real ESCI slice with the real all-MiniLM-L6-v2: the notebook's experiment.

The MiniLM figures are checked against the notebook's own code (cells 2-6) run in the test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from test_sampling import notebook_sample, notebook_text
from workflow_runner import snakemake, write_config

pytestmark = pytest.mark.slow
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def notebook_minilm_metrics(esci_slice) -> pd.DataFrame:
    """The notebook's baseline evaluation (cells 4-6), per query."""
    import faiss
    from sentence_transformers import SentenceTransformer

    from shopbench.models import resolve_model

    examples = pd.read_parquet(esci_slice / "shopping_queries_dataset_examples.parquet")
    products = pd.read_parquet(esci_slice / "shopping_queries_dataset_products.parquet")
    sample = notebook_sample(examples)
    prod = notebook_text(sample, products)
    model = SentenceTransformer(resolve_model(MINILM), device="cpu")
    prod_ids = prod["product_id"].tolist()
    embs = model.encode(prod["product_text"].tolist(), batch_size=128, normalize_embeddings=True)
    index = faiss.IndexFlatIP(embs.shape[1])
    index.add(embs.astype("float32"))
    gt = sample.groupby("query_id").agg({"query": "first", "product_id": list}).to_dict("index")
    rows = []
    for qid, data in gt.items():
        q = model.encode([data["query"]], normalize_embeddings=True)
        _, idx = index.search(q.astype("float32"), k=10)
        ranks = [i for i, j in enumerate(idx[0]) if prod_ids[j] in set(data["product_id"])]
        rows.append({"qid": qid, "hits@1": float(any(r < 1 for r in ranks)),
                     "hits@10": float(any(r < 10 for r in ranks)),
                     "mrr": 0.0 if not ranks else 1.0 / (min(ranks) + 1)})
    return pd.DataFrame(rows).set_index("qid").sort_index()


def test_notebook_experiment_on_real_slice(esci_slice, tmp_path):
    config = {
        "name": "real",
        "data": {"examples": str(esci_slice / "shopping_queries_dataset_examples.parquet"),
                 "products": str(esci_slice / "shopping_queries_dataset_products.parquet")},
        "sampling": {"locale": "us", "labels": ["E"], "n_queries": 50, "n_rows": 500},
        "protocol": "seed",
        "seeds": [42],
        "models": [{"name": "minilm", "kind": "bi-encoder", "path": MINILM,
                    "batch_size": 128}],
        "approaches": [
            {"name": "minilm", "type": "dense", "model": "minilm", "k": 10},
            {"name": "minilm-100", "type": "dense", "model": "minilm", "k": 100},
            {"name": "bm25", "type": "bm25"},
            {"name": "hybrid", "type": "fusion", "runs": ["minilm-100", "bm25"]},
        ],
    }
    snakemake(tmp_path, write_config(tmp_path, config), "--cores", "2")
    res = tmp_path / "results" / "real"
    seed = res / "seed42"
    qrels = pd.read_csv(seed / "qrels.tsv", sep=" ", header=None)
    assert len(qrels) == 500 and (qrels[3] == 3).all()
    for approach in ["minilm", "minilm-100", "bm25", "hybrid"]:
        assert (seed / "runs" / f"{approach}.tsv").stat().st_size > 0
    metrics = pd.read_csv(res / "metrics.csv").set_index("approach")
    assert metrics.loc["minilm", "n_queries"] == qrels[0].nunique()

    ours = pd.read_csv(seed / "eval" / "minilm.tsv", sep="\t").set_index("qid").sort_index()
    notebook = notebook_minilm_metrics(esci_slice)
    assert ours.index.tolist() == notebook.index.tolist()
    for col in ["hits@1", "hits@10", "mrr"]:
        np.testing.assert_allclose(ours[col].to_numpy(), notebook[col].to_numpy(), atol=1e-9)
        assert metrics.loc["minilm", col] == pytest.approx(notebook[col].mean(), abs=1e-6)

"""End to end on the real ESCI slice with the real all-MiniLM-L6-v2: the notebook's experiment.

The MiniLM figures are checked against the notebook's own code (cells 2-6) run in the test, and
the hybrid with ``ties: notebook`` against the notebook's cell 10 (BM25 + FAISS, RRF).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from notebook_reference import notebook_sample, notebook_text
from workflow_runner import snakemake, write_config

pytestmark = pytest.mark.slow
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def notebook_eval(ranked, relevant) -> dict:
    """The notebook's eval_ranking (cell 5)."""
    ranks = [i for i, pid in enumerate(ranked) if pid in relevant]
    return {"hits@1": float(any(r < 1 for r in ranks)), "hits@5": float(any(r < 5 for r in ranks)),
            "hits@10": float(any(r < 10 for r in ranks)),
            "mrr": 0.0 if not ranks else 1.0 / (min(ranks) + 1)}


def notebook_minilm_metrics(esci_slice) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The notebook's baseline evaluation (cells 4-6) and its hybrid (cells 10-11), per query,
    and the notebook's product order."""
    import faiss
    from rank_bm25 import BM25Okapi
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

    # cell 10, as written (no query prefix for MiniLM)
    def _simple_tokenize(text):
        return re.findall(r"[a-z0-9]+", text.lower())

    bm25 = BM25Okapi([_simple_tokenize(t) for t in prod["product_text"].tolist()], k1=1.5,
                     b=0.75)

    def search_hybrid(qtext, k=100, rrf_k=60):
        q_emb = model.encode([qtext], normalize_embeddings=True)
        _, faiss_idx = index.search(q_emb.astype("float32"), k=k)
        faiss_pids = [prod_ids[i] for i in faiss_idx[0]]
        bm25_scores = bm25.get_scores(_simple_tokenize(qtext))
        bm25_idx = bm25_scores.argsort()[::-1][:k]
        bm25_pids = [prod_ids[i] for i in bm25_idx]
        rrf = {}
        for rank, pid in enumerate(faiss_pids):
            rrf[pid] = rrf.get(pid, 0.0) + 1.0 / (rrf_k + rank + 1)
        for rank, pid in enumerate(bm25_pids):
            rrf[pid] = rrf.get(pid, 0.0) + 1.0 / (rrf_k + rank + 1)
        fused = sorted(rrf.items(), key=lambda kv: -kv[1])
        return [pid for pid, _ in fused]

    hybrid = [{"qid": qid, **notebook_eval(search_hybrid(data["query"]),
                                           set(data["product_id"]))}
              for qid, data in gt.items()]
    return (pd.DataFrame(rows).set_index("qid").sort_index(),
            pd.DataFrame(hybrid).set_index("qid").sort_index(), [str(p) for p in prod_ids])


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
            # the notebook's hybrid exactly: zero scores kept, the notebook's tie orders
            {"name": "bm25-nb", "type": "bm25", "pad_zero_scores": True, "ties": "notebook"},
            {"name": "hybrid-nb", "type": "fusion", "runs": ["minilm-100", "bm25-nb"],
             "ties": "notebook"},
            # seed.yaml's hybrid: zero scores kept, ties by docid (printed for comparison)
            {"name": "bm25-padded", "type": "bm25", "pad_zero_scores": True},
            {"name": "hybrid-padded", "type": "fusion", "runs": ["minilm-100", "bm25-padded"]},
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
    notebook, notebook_hybrid, prod_ids = notebook_minilm_metrics(esci_slice)
    assert ours.index.tolist() == notebook.index.tolist()
    for col in ["hits@1", "hits@10", "mrr"]:
        np.testing.assert_allclose(ours[col].to_numpy(), notebook[col].to_numpy(), atol=1e-9)
        assert metrics.loc["minilm", col] == pytest.approx(notebook[col].mean(), abs=1e-6)

    # the corpus keeps the notebook's product order (BM25's notebook ties depend on it)
    assert pd.read_parquet(seed / "corpus.parquet")["docid"].tolist() == prod_ids
    ours = pd.read_csv(seed / "eval" / "hybrid-nb.tsv", sep="\t").set_index("qid").sort_index()
    assert ours.index.tolist() == notebook_hybrid.index.tolist()
    for col in ["hits@1", "hits@5", "hits@10", "mrr"]:
        np.testing.assert_allclose(ours[col].to_numpy(), notebook_hybrid[col].to_numpy(),
                                   atol=1e-9, err_msg=col)
        assert metrics.loc["hybrid-nb", col] == pytest.approx(notebook_hybrid[col].mean(),
                                                              abs=1e-6)
    print("hybrid: notebook / ties notebook (padded) / docid (padded) / docid (unpadded)")
    for col in ["hits@1", "hits@5", "hits@10", "mrr"]:
        print(f"  {col}: {notebook_hybrid[col].mean():.4f} "
              + " ".join(f"{metrics.loc[a, col]:.4f}"
                         for a in ["hybrid-nb", "hybrid-padded", "hybrid"]))

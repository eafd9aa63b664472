"""The exploratory notebook's code (../shared/origin/esci-retrieval-notebook.txt) as one script.

Cells 1-12 in order, as the notebook ran them, for ``bench_cold.py`` to time against
``snakemake``. What differs from the notebook, and why:

* the data folder and the three model paths are arguments (the notebook read the parquet files
  from its working directory and the models from the Hugging Face hub);
* ``pd.read_parquet`` uses pandas' default engine (pyarrow): fastparquet is not a dependency;
* cells 8-9 analyse query 105041 ("travel size fragrance spray"), which is not in every sample:
  when it is absent they analyse MiniLM's worst query instead (same cost: one query encoded,
  searched and reranked);
* cell 12 writes ``artifacts/`` under ``--out``, with the per-approach metrics of every
  approach (``metrics.json``), which ``bench_cold.py`` compares with shopbench's.

    python benchmarks/notebook.py --data data/esci-us-150q --minilm PATH --e5 PATH \\
        --cross-encoder PATH --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--data", required=True, help="folder with the two ESCI parquet files")
parser.add_argument("--minilm", required=True, help="all-MiniLM-L6-v2 folder or hub id")
parser.add_argument("--e5", required=True, help="e5-small-v2 folder or hub id")
parser.add_argument("--cross-encoder", required=True,
                    help="ms-marco-MiniLM-L-6-v2 folder or hub id")
parser.add_argument("--out", required=True, help="folder for artifacts/ (cell 12)")
args = parser.parse_args()
data = Path(args.data)

# ============================================================================
# CELL 1: Data Loading & Initial Exploration
# ============================================================================
import pandas as pd
import numpy as np

examples = pd.read_parquet(data / "shopping_queries_dataset_examples.parquet")
products = pd.read_parquet(data / "shopping_queries_dataset_products.parquet")

print(f"Raw data: {len(examples):,} examples, {len(products):,} products")
print(f"Label distribution:\n{examples['esci_label'].value_counts()}\n")

filtered = examples[
    (examples['product_locale'] == 'us') &
    (examples['esci_label'] == 'E')
].copy()

print(f"After filtering: {len(filtered):,} rows")
print(f"Unique queries: {filtered['query_id'].nunique():,}")
print(f"Unique products: {filtered['product_id'].nunique():,}")

ppq = filtered.groupby('query_id').size()
print(f"\nProducts per query: mean={ppq.mean():.1f}, median={ppq.median():.0f}")
print(f"Min={ppq.min()}, Max={ppq.max()}")

# ============================================================================
# CELL 2: Sampling Strategy
# ============================================================================
np.random.seed(42)

query_ids = filtered['query_id'].unique()
sampled_qids = np.random.choice(query_ids, size=50, replace=False)

subset = filtered[filtered['query_id'].isin(sampled_qids)]
print(f"Rows with sampled queries: {len(subset):,}")

sample = subset.sample(n=min(500, len(subset)), random_state=42)

print(f"\nFinal sample:")
print(f"  Rows: {len(sample)}")
print(f"  Queries: {sample['query_id'].nunique()}")
print(f"  Products: {sample['product_id'].nunique()}")

print("\nSample queries:")
for q in sample['query'].drop_duplicates().head(5):
    print(f"  - {q}")

out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
sample.to_csv(out / "sample_dataset.csv", index=False)
print("\n Saved to sample_dataset.csv")

# ============================================================================
# CELL 3: Product Text Preparation
# ============================================================================
sample_keys = sample[['product_id', 'product_locale']].drop_duplicates()
prod = sample_keys.merge(
    products[['product_id', 'product_locale', 'product_title', 'product_brand',
              'product_bullet_point', 'product_description']],
    on=['product_id', 'product_locale'],
    how='left'
)

text_cols = ['product_title', 'product_brand', 'product_bullet_point', 'product_description']
prod['product_text'] = prod[text_cols].fillna('').agg(' '.join, axis=1)
prod['product_text'] = prod['product_text'].str.replace(r'\s+', ' ', regex=True).str.strip()

prod = prod[prod['product_text'].str.len() > 0].copy()
print(f"Products with text: {len(prod)}")
print(f"Avg text length: {prod['product_text'].str.len().mean():.0f} chars")

print("\nExample product text:")
print(prod.iloc[0]['product_text'][:200] + "...")

# ============================================================================
# CELL 4: Baseline - Dense Embeddings Only
# ============================================================================
from sentence_transformers import SentenceTransformer
import faiss

model = SentenceTransformer(args.minilm)
print(f"Model loaded: {model.get_sentence_embedding_dimension()} dimensions")

prod_texts = prod['product_text'].tolist()
prod_ids = (prod['product_id'].astype(str) + '||' + prod['product_locale'].astype(str)).tolist()

print("Encoding products...")
embs = model.encode(prod_texts, batch_size=128, show_progress_bar=True,
                    normalize_embeddings=True)

index = faiss.IndexFlatIP(embs.shape[1])
index.add(embs.astype('float32'))
print(f"Index built: {index.ntotal} vectors")

# ============================================================================
# CELL 5: Evaluation Setup
# ============================================================================
sample['_pid_key'] = (sample['product_id'].astype(str) + '||' +
                      sample['product_locale'].astype(str))
gt = sample.groupby('query_id').agg({
    'query': 'first',
    '_pid_key': list
}).to_dict('index')

print(f"Ground truth: {len(gt)} queries")
print(f"Avg relevant per query: {sample.groupby('query_id').size().mean():.1f}")


def hits_at_k(ranks, k):
    return 1.0 if any(r < k for r in ranks) else 0.0


def mrr(ranks):
    return 0.0 if not ranks else 1.0 / (min(ranks) + 1)


def eval_ranking(ranked_pids, relevant_pids):
    ranks = [i for i, pid in enumerate(ranked_pids) if pid in relevant_pids]
    return {
        'hits@1': hits_at_k(ranks, 1),
        'hits@5': hits_at_k(ranks, 5),
        'hits@10': hits_at_k(ranks, 10),
        'mrr': mrr(ranks)
    }


# ============================================================================
# CELL 6: Baseline Results
# ============================================================================
from tqdm import tqdm

results_baseline = []

for qid, data_ in tqdm(gt.items(), desc="Evaluating baseline"):
    q_emb = model.encode([data_['query']], normalize_embeddings=True)
    D, I = index.search(q_emb.astype('float32'), k=10)

    ranked = [prod_ids[i] for i in I[0]]
    metrics = eval_ranking(ranked, set(data_['_pid_key']))

    results_baseline.append({
        'query_id': qid,
        'query': data_['query'],
        **metrics
    })

df_baseline = pd.DataFrame(results_baseline)

print("\n=== BASELINE: all-MiniLM-L6-v2 ===")
print(f"HITS@1:  {df_baseline['hits@1'].mean():.3f}")
print(f"HITS@5:  {df_baseline['hits@5'].mean():.3f}")
print(f"HITS@10: {df_baseline['hits@10'].mean():.3f}")
print(f"MRR:     {df_baseline['mrr'].mean():.3f}")

worst = df_baseline.nsmallest(3, 'mrr')
print(f"\nWorst queries (MRR):")
for _, row in worst.iterrows():
    print(f"  {row['mrr']:.2f} - '{row['query']}'")

# ============================================================================
# CELL 7: Alternative Embedding Model - E5-Small-v2
# ============================================================================
model_e5 = SentenceTransformer(args.e5)
print(f"E5 model loaded: {model_e5.get_sentence_embedding_dimension()} dimensions")

print("\nEncoding products with E5...")
prod_texts_e5 = ["passage: " + t for t in prod_texts]
embs_e5 = model_e5.encode(prod_texts_e5, batch_size=128, show_progress_bar=True,
                          normalize_embeddings=True)

index_e5 = faiss.IndexFlatIP(embs_e5.shape[1])
index_e5.add(embs_e5.astype('float32'))
print(f"E5 index built: {index_e5.ntotal} vectors")

results_e5 = []
for qid, data_ in tqdm(gt.items(), desc="Evaluating E5"):
    q_text_e5 = "query: " + data_['query']
    q_emb = model_e5.encode([q_text_e5], normalize_embeddings=True)
    D, I = index_e5.search(q_emb.astype('float32'), k=10)

    ranked = [prod_ids[i] for i in I[0]]
    metrics = eval_ranking(ranked, set(data_['_pid_key']))

    results_e5.append({
        'query_id': qid,
        'query': data_['query'],
        **metrics
    })

df_e5 = pd.DataFrame(results_e5)

print("\n=== E5-small-v2 vs MiniLM ===")
print(f"{'Metric':<10} {'MiniLM':>10} {'E5':>10} {'Diff':>8}")
print("-" * 42)
for metric in ['hits@1', 'hits@5', 'hits@10', 'mrr']:
    mini = df_baseline[metric].mean()
    e5 = df_e5[metric].mean()
    print(f"{metric.upper():<10} {mini:>10.3f} {e5:>10.3f} {e5-mini:>+8.3f}")

# Deep dive (the notebook's query 105041; MiniLM's worst query when it is not sampled)
problem_qid = 105041 if 105041 in gt else int(df_baseline.nsmallest(1, 'mrr')['query_id'].iloc[0])
if problem_qid in gt:
    problem_query = gt[problem_qid]['query']
    relevant_pids = set(gt[problem_qid]['_pid_key'])
    q_emb_mini = model.encode([problem_query], normalize_embeddings=True)
    D_mini, I_mini = index.search(q_emb_mini.astype('float32'), k=10)
    ranked_mini = [prod_ids[i] for i in I_mini[0]]
    q_emb_e5 = model_e5.encode(["query: " + problem_query], normalize_embeddings=True)
    D_e5, I_e5 = index_e5.search(q_emb_e5.astype('float32'), k=10)
    ranked_e5 = [prod_ids[i] for i in I_e5[0]]
    for label, ranked in (("MiniLM", ranked_mini), ("E5", ranked_e5)):
        print(f"\n{label} Top-3:")
        for i, pid in enumerate(ranked[:3], 1):
            mark = "[HIT]" if pid in relevant_pids else "[MISS]"
            print(f"  {i}. {mark} {prod.iloc[prod_ids.index(pid)]['product_title'][:55]}")

# CELL 7b: the notebook's choice for the next cells
model_final = model
index_final = index
df_best = df_baseline
prefix_query = ""
prefix_doc = ""
model_name = "all-MiniLM-L6-v2"

# ============================================================================
# CELL 8: Root Cause Analysis (MiniLM Baseline)
# ============================================================================
qid = problem_qid
qtext = gt[qid]['query']
print(f"Analyzing MiniLM failure: '{qtext}'")
q_emb = model.encode([qtext], normalize_embeddings=True)
D, I = index.search(q_emb.astype('float32'), k=10)
ranked = [prod_ids[i] for i in I[0]]
relevant = set(gt[qid]['_pid_key'])
for i, pid in enumerate(ranked[:10]):
    is_rel = "[HIT]" if pid in relevant else "[MISS]"
    print(f"{i+1:2}. {is_rel} {prod.iloc[prod_ids.index(pid)]['product_title'][:60]}")

# ============================================================================
# CELL 9: Experiment - Cross-Encoder Reranking
# ============================================================================
from sentence_transformers import CrossEncoder

reranker = CrossEncoder(args.cross_encoder, max_length=512)
print("Cross-encoder loaded")


def search_with_rerank(qtext, k=50):
    """Two-stage: FAISS retrieve + CE rerank"""
    q_emb = model_final.encode([prefix_query + qtext], normalize_embeddings=True)
    _, I = index_final.search(q_emb.astype('float32'), k=k)
    candidates = [prod_ids[i] for i in I[0]]
    pairs = [(qtext, prod.iloc[prod_ids.index(pid)]['product_text'])
             for pid in candidates]
    scores = reranker.predict(pairs)
    return [candidates[i] for i in scores.argsort()[::-1]]


rerank_result = search_with_rerank(qtext)
for i, pid in enumerate(rerank_result[:10]):
    is_rel = "[HIT]" if pid in relevant else "[MISS]"
    print(f"{i+1:2}. {is_rel} {prod.iloc[prod_ids.index(pid)]['product_title'][:60]}")

results_rerank = []
for qid, data_ in tqdm(gt.items(), desc="Evaluating rerank"):
    ranked = search_with_rerank(data_['query'])
    metrics = eval_ranking(ranked, set(data_['_pid_key']))
    results_rerank.append({'query_id': qid, **metrics})

df_rerank = pd.DataFrame(results_rerank)

print(f"\n=== Cross-Encoder Reranking ===")
print(f"HITS@1: {df_rerank['hits@1'].mean():.3f} (was {df_best['hits@1'].mean():.3f})")
print(f"MRR:    {df_rerank['mrr'].mean():.3f} (was {df_best['mrr'].mean():.3f})")
print(f"   Improvement: {(df_rerank['mrr'].mean() - df_best['mrr'].mean())*100:.1f}% MRR gain")

# ============================================================================
# CELL 10: Hybrid Approach - Embeddings + BM25
# ============================================================================
import re
from typing import List
from rank_bm25 import BM25Okapi


def _simple_tokenize(text: str) -> List[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


corpus_tokens = [_simple_tokenize(t) for t in prod_texts]
bm25 = BM25Okapi(corpus_tokens, k1=1.5, b=0.75)


def search_hybrid(qtext, k=100, rrf_k=60):
    """Hybrid: embeddings + BM25 with RRF fusion."""
    q_emb = model_final.encode([prefix_query + qtext], normalize_embeddings=True)
    _, faiss_idx = index_final.search(q_emb.astype('float32'), k=k)
    faiss_pids = [prod_ids[i] for i in faiss_idx[0]]

    q_tokens = _simple_tokenize(qtext)
    bm25_scores = bm25.get_scores(q_tokens)
    bm25_idx = bm25_scores.argsort()[::-1][:k]
    bm25_pids = [prod_ids[i] for i in bm25_idx]

    rrf = {}
    for rank, pid in enumerate(faiss_pids):
        rrf[pid] = rrf.get(pid, 0.0) + 1.0 / (rrf_k + rank + 1)
    for rank, pid in enumerate(bm25_pids):
        rrf[pid] = rrf.get(pid, 0.0) + 1.0 / (rrf_k + rank + 1)

    fused = sorted(rrf.items(), key=lambda kv: -kv[1])
    return [pid for pid, _ in fused]


hybrid_result = search_hybrid(qtext)
for i, pid in enumerate(hybrid_result[:10]):
    is_rel = "[HIT]" if pid in relevant else "[MISS]"
    print(f"{i+1:2}. {is_rel} {prod.iloc[prod_ids.index(pid)]['product_title'][:60]}")

# ============================================================================
# CELL 11: Hybrid Evaluation & Comparison
# ============================================================================
results_hybrid = []
for qid, data_ in tqdm(gt.items(), desc="Evaluating hybrid"):
    ranked = search_hybrid(data_['query'])
    metrics = eval_ranking(ranked, set(data_['_pid_key']))
    results_hybrid.append({'query_id': qid, 'query': data_['query'], **metrics})

df_hybrid = pd.DataFrame(results_hybrid)

print("\n=== FINAL COMPARISON ===")
print(f"{'Metric':<10} {'Baseline':>10} {'Reranker':>10} {'Hybrid':>10}")
print("-" * 54)
for metric in ['hits@1', 'hits@5', 'hits@10', 'mrr']:
    base = df_best[metric].mean()
    rerank = df_rerank[metric].mean()
    hyb = df_hybrid[metric].mean()
    print(f"{metric.upper():<10} {base:>10.3f} {rerank:>10.3f} {hyb:>10.3f}")

# ============================================================================
# CELL 12: Production Insights (results saved; every approach's mean metrics)
# ============================================================================
os.makedirs(out / 'artifacts', exist_ok=True)
frames = {"minilm": df_baseline, "e5": df_e5, "minilm-rerank": df_rerank, "hybrid": df_hybrid}
for name, frame in frames.items():
    frame.to_csv(out / 'artifacts' / f'results_{name}.csv', index=False)
metrics = {name: {m: float(frame[m].mean()) for m in ['hits@1', 'hits@5', 'hits@10', 'mrr']}
           | {"n_queries": len(frame)} for name, frame in frames.items()}
with open(out / 'artifacts' / 'metrics.json', 'w') as f:
    json.dump(metrics, f, indent=2)

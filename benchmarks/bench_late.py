"""Late interaction: token-vector size, encode rate, rerank and search latency per query, and
the IVF candidate stage's recall against exact MaxSim.

Real slice (6,764 US products of data/esci-us-150q, the corpus of
experiments/late-interaction.yaml): the token files and query token vectors that the
experiment wrote are read (``--results``); ``--encode N`` products are encoded again to time
the encoder (``--encode all`` for every product). Synthetic catalogue (``--synthetic``, 100k by
default): random unit token vectors at ColBERT's 128 dimensions with the slice's token counts,
to measure size and exact search at that scale; 1.2M is projected linearly from it.

    python benchmarks/bench_late.py                        # after the experiment has run
    python benchmarks/bench_late.py --encode all --synthetic 100000

Prints the figures and writes benchmarks/out/bench_late.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from common import median, save, table  # noqa: E402

from shopbench import late  # noqa: E402
from shopbench.backends import maxsim  # noqa: E402

RESULTS = Path("results/late-interaction")
MIB = 1024 ** 2
FULL_US = 1_215_854  # US products with text in the full ESCI file (docs/benchmarks.md)


def per_query_ms(fn, queries) -> float:
    times = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - start)
    return 1000 * median(times)


def slice_figures(results: Path, model: str, encode: str, depth: int, k: int,
                  n_queries: int, nlist: int) -> dict:
    import pandas as pd

    corpus = results / "catalogue" / "corpus.parquet"
    tokens, offsets = late.read_tokens(str(results / "catalogue" / "tokens" / f"{model}.npy"),
                                       str(results / "catalogue" / "tokens"
                                           / f"{model}.lengths.npy"))
    lengths = np.diff(offsets)
    queries = []
    for path in sorted(results.glob(f"seed*/query_tokens/{model}.plain.npz")):
        queries += late.load_query_tokens(path)[1]
    queries = queries[:n_queries]
    n, dim = len(lengths), tokens.shape[1]
    out = {"products": n, "dim": dim, "token_vectors": int(len(tokens)),
           "tokens_per_product_mean": float(lengths.mean()),
           "tokens_per_product_median": float(np.median(lengths)),
           "tokens_mib_fp16": len(tokens) * dim * 2 / MIB,
           "tokens_mib_fp16_at_128": len(tokens) * 128 * 2 / MIB,
           "queries": len(queries),
           "query_tokens_mean": float(np.mean([len(q) for q in queries]))}
    docids = pd.read_parquet(corpus, columns=["docid"])["docid"].to_numpy()
    rng = np.random.default_rng(0)
    tokens_ram = np.ascontiguousarray(tokens)  # in memory, as a warm page cache gives
    pools = [rng.choice(n, depth, replace=False) for _ in queries]
    it = iter(pools)
    out["rerank_ms"] = per_query_ms(lambda q: late.maxsim(q, tokens_ram, offsets, next(it)),
                                    queries)
    exact = maxsim.MaxSimIndex(tokens_ram, offsets, docids)
    out["exact_search_ms"] = per_query_ms(lambda q: exact.search(q, k), queries)
    import faiss

    built = results / "catalogue" / "token_index" / "late-ivf.faiss"
    if built.exists():  # the experiment's (nlist 1024)
        ivf = faiss.read_index(str(built))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            maxsim.build(str(results / "catalogue" / "tokens" / f"{model}.npy"),
                         f"{tmp}/ivf.faiss", nlist=nlist)
            out["ivf_build_s"] = time.perf_counter() - start
            ivf = faiss.read_index(f"{tmp}/ivf.faiss")
    out["ivf_nlist"] = ivf.nlist
    truth = [exact.search(q, 100)[0] for q in queries]
    for nprobe, token_k in ((8, 32), (32, 64), (64, 128)):
        idx = maxsim.MaxSimIndex(tokens_ram, offsets, docids, ivf, nprobe, token_k)
        found = [idx.search(q, 100)[0] for q in queries]
        key = f"ivf_nprobe{nprobe}_tokenk{token_k}"
        out[key + "_ms"] = per_query_ms(lambda q: idx.search(q, k), queries)
        out[key + "_candidates"] = float(np.median([len(idx.candidates(q)) for q in queries]))
        for cut in (10, 100):
            out[f"{key}_recall@{cut}"] = float(np.mean(
                [len(set(f[:cut]) & set(t[:cut])) / min(cut, len(t))
                 for f, t in zip(found, truth)]))
    if encode != "0":
        out.update(encode_rate(corpus, encode, model))
    return out


def encode_rate(corpus: Path, encode: str, model: str) -> dict:
    """Products per second of the experiment's stand-in (MiniLM, 128 tokens), batch 4."""
    import pandas as pd
    import torch

    from shopbench import shards

    texts = pd.read_parquet(corpus, columns=["text"])["text"].tolist()
    if encode != "all":
        texts = texts[:int(encode)]
    enc = late.load_late_interaction("sentence-transformers/all-MiniLM-L6-v2", model,
                                     max_length=128, stand_in=True)
    plan = shards.batch_plan([len(t) for t in texts], 4)
    start = time.perf_counter()
    for rows in plan:
        late.encode_documents(enc, [texts[r] for r in rows], 4)
    seconds = time.perf_counter() - start
    return {"encoded_products": len(texts), "encode_s": seconds,
            "encode_products_per_s": len(texts) / seconds,
            "torch_threads": torch.get_num_threads()}


def slice_token_counts(corpus: Path, cut: int = 128) -> np.ndarray:
    """Tokens per product of the slice under MiniLM's tokenizer cut at ``cut`` (punctuation
    tokens left out, as the skiplist does)."""
    import string

    import pandas as pd
    from transformers import AutoTokenizer

    from shopbench.models import resolve_model

    tok = AutoTokenizer.from_pretrained(resolve_model("sentence-transformers/all-MiniLM-L6-v2"))
    texts = pd.read_parquet(corpus, columns=["text"])["text"].tolist()
    punct = set(string.punctuation)
    ids = tok(texts, truncation=True, max_length=cut)["input_ids"]
    return np.array([sum(1 for t in tok.convert_ids_to_tokens(i) if t not in punct)
                     for i in ids], dtype=np.int64)


def synthetic_figures(n: int, lengths: np.ndarray, k: int, dim: int = 128,
                      query_tokens: int = 32, repeats: int = 5) -> dict:
    """Random unit token vectors for ``n`` products with the slice's token counts, held in
    float32 as exact search holds them (their file is float16: half the bytes); queries of
    ColBERT's 32 tokens."""
    rng = np.random.default_rng(1)
    lens = rng.choice(lengths, n)
    offsets = late.offsets_of(lens)
    tokens = np.empty((int(lens.sum()), dim), dtype=np.float32)
    for start in range(0, len(tokens), 1_000_000):
        block = rng.standard_normal((min(1_000_000, len(tokens) - start), dim),
                                    dtype=np.float32)
        tokens[start:start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    qs = [rng.standard_normal((query_tokens, dim)).astype(np.float32) for _ in range(repeats)]
    qs = [q / np.linalg.norm(q, axis=1, keepdims=True) for q in qs]
    docids = np.array([f"P{i:08d}" for i in range(n)])
    exact = maxsim.MaxSimIndex(tokens, offsets, docids)
    pools = iter([rng.choice(n, 50, replace=False) for _ in qs])
    return {"products": n, "dim": dim, "query_tokens": query_tokens,
            "token_vectors": int(len(tokens)),
            "tokens_per_product_mean": float(lens.mean()),
            "tokens_mib_fp16": len(tokens) * dim * 2 / MIB,
            "exact_search_ms": per_query_ms(lambda q: exact.search(q, k), qs),
            "rerank_ms": per_query_ms(lambda q: late.maxsim(q, tokens, offsets, next(pools)),
                                      qs)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--model", default="minilm-tokens")
    parser.add_argument("--encode", default="0", help="products to encode: N, all or 0 (the "
                        "experiment's encode_tokens log has the rate of all 6,764)")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--synthetic-only", action="store_true")
    parser.add_argument("--encode-rate", type=float, default=None,
                        help="products/s measured (e.g. the encode_tokens log), to project 1.2M")
    parser.add_argument("--nlist", type=int, default=1024)
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("-k", type=int, default=100)
    args = parser.parse_args(argv)

    import faiss
    import torch

    torch.set_num_threads(2)
    faiss.omp_set_num_threads(2)
    result = {}
    if not args.synthetic_only:
        sl = slice_figures(args.results, args.model, args.encode, args.depth, args.k,
                           args.queries, args.nlist)
        result["slice"] = sl
        print("real slice:")
        print(table([{"figure": key, "value": value} for key, value in sl.items()]))
    if args.synthetic:
        lengths = slice_token_counts(args.results / "catalogue" / "corpus.parquet")
        syn = synthetic_figures(args.synthetic, lengths, args.k)
        scale = FULL_US / syn["products"]
        syn["projected_1.2M"] = {"token_vectors": syn["token_vectors"] * scale,
                                 "tokens_mib_fp16": syn["tokens_mib_fp16"] * scale,
                                 "exact_search_ms": syn["exact_search_ms"] * scale}
        if args.encode_rate:
            syn["projected_1.2M"]["encode_hours"] = FULL_US / args.encode_rate / 3600
        result["synthetic"] = syn
        print(f"synthetic ({args.synthetic:,} products, {syn['dim']} dimensions):")
        print(table([{"figure": key, "value": value} for key, value in syn.items()
                     if key != "projected_1.2M"]))
        print("projected to 1.2M products:")
        print(table([{"figure": key, "value": value}
                     for key, value in syn["projected_1.2M"].items()]))
    save("bench_late" + ("_synthetic" if args.synthetic_only else ""), result)


if __name__ == "__main__":
    main()

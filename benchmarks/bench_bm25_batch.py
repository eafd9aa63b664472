"""BM25 search at catalogue scale: the per-query ``bincount`` path (the catalogue's BM25
search before the batched kernels, still the bm25s backend's ``Scorer.scores_ids``) against
``shopbench.bm25s_search.batch_search`` (what the bm25 step now runs), same index and queries.

Builds (or reuses, under ``--work``) a synthetic catalogue of ``--products`` products with
``synth.py``, its corpus (``text.catalogue_corpus``) and its bm25s index
(``steps.bm25_index``), each stage in a fresh interpreter that reports its wall time and
peak RSS. Then, in one more fresh interpreter (the search stage of the workflow's job):

* the previous path: blocks of 64 queries, every product scored by one float64 ``bincount``
  per query, ``trec.top_k`` and the zero-score filter per query;
* ``batch_search`` with each ``--threads`` value (after a warm-up call that loads the compiled
  kernels), on the same queries, each call computing the docid order itself; then once with
  that order computed beforehand (``order=``), as a caller searching block by block would;
* a check that every query's positions and float32 scores are identical (so the run files are);
* with ``--all-modes``, the same check (and ``batch_search``'s rate) for the other tie and
  padding settings;
* for reference, bm25s' own ``retrieve`` (numba backend, float32 sums): its rate and how many
  queries get the same top k as today (it is not exact: float32 sums, its own tie order).

    python benchmarks/bench_bm25_batch.py                        # 1.2M products, 1,000 queries
    python benchmarks/bench_bm25_batch.py --products 100000 --work /tmp/bm25-100k
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import common
import synth

#: Queries in the synthetic examples file (the benchmark searches the first --queries).
SYNTH_QUERIES = 5000

CHILD = """
import json, sys, time
sys.path.insert(0, {src!r}); sys.path.insert(0, {bench!r})
start = time.perf_counter()
extra = {{}}
{body}
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
print(json.dumps({{"wall_s": time.perf_counter() - start, "peak_rss_mb": hwm / 1024, **extra}}))
"""
DATA_STAGE = """
import synth
from pathlib import Path
products = synth.catalogue({n})
synth.write(products, synth.queries(products, {q}), Path({out!r}))
"""
CORPUS_STAGE = """
from shopbench import text as T
import synth
extra["products"] = T.catalogue_corpus({products!r}, {corpus!r}, fields=synth.TEXT_FIELDS,
                                       locale="us")
"""
INDEX_STAGE = """
from shopbench import steps
steps.bm25_index({corpus!r}, {index!r}, backend="bm25s", analyzer={analyzer!r}, k1={k1},
                 b={b})
"""
SEARCH_STAGE = """
import numpy as np, pandas as pd
from shopbench import analyzers, backends, trec
from shopbench.bm25s_search import batch_search, docid_order

k, block = {k}, 64
docids = pd.read_parquet({corpus!r}, columns=["docid"])["docid"].to_numpy()
scorer = backends.get("bm25s").load({index!r}, docids).fields["text"][0]
retriever = scorer.retriever
examples = pd.read_parquet({examples!r}, columns=["query_id", "query"])
queries = examples.drop_duplicates("query_id")["query"].head({n_queries}).tolist()
tokenize, vocab = analyzers.make({analyzer!r}), retriever.vocab_dict
ids = [[vocab[t] for t in tokenize(q) if t in vocab] for q in queries]
data, indptr = retriever.scores["data"], np.asarray(retriever.scores["indptr"])
postings = [int(sum(indptr[t + 1] - indptr[t] for t in q)) for q in ids]
extra.update(queries=len(ids), products=len(docids), terms_per_query=float(np.mean(
    [len(q) for q in ids])), postings_per_query=float(np.mean(postings)),
    postings_median=float(np.median(postings)), postings_max=int(max(postings)),
    no_term=int(sum(not q for q in ids)))

def today(ties, pad):  # the catalogue's loop before the kernels: score every product
    ranked, scores = [], []
    for s in range(0, len(ids), block):
        for row in (scorer.scores_ids(q) for q in ids[s:s + block]):
            order, top = trec.top_k(row, docids, k, ties=ties)
            if not pad:
                order, top = order[top > 0], top[top > 0]
            ranked.append(order.copy())  # (top_k's order may view a whole-row sort)
            scores.append(top)
    return ranked, scores

def same(a, b):
    return sum(np.array_equal(x, y) and x.dtype == y.dtype for x, y in zip(a, b))

t = time.perf_counter()
batch_search(retriever, ids[:2], docids, k)  # loads (or compiles) the kernels
extra["warm_up_s"] = time.perf_counter() - t
modes = [({ties!r}, {pad})] + ([m for m in [("docid", False), ("docid", True),
                                           ("notebook", False), ("notebook", True)]
                               if m != ({ties!r}, {pad})] if {all_modes} else [])
extra["modes"] = []
for n_mode, (ties, pad) in enumerate(modes):
    t = time.perf_counter()
    old = today(ties, pad)
    old_s = time.perf_counter() - t
    entry = {{"ties": ties, "pad_zero_scores": pad, "today_qps": len(ids) / old_s,
              "new": []}}
    for threads in {threads} if n_mode == 0 else {threads}[:1]:
        t = time.perf_counter()
        new = batch_search(retriever, ids, docids, k, ties=ties, pad_zero_scores=pad,
                           threads=threads)
        new_s = time.perf_counter() - t
        entry["new"].append({{"threads": threads, "qps": len(ids) / new_s,
                             "same_positions": same(old[0], new[0]),
                             "same_scores": same(old[1], new[1])}})
    if ties == "docid":  # (the notebook's order needs no docid order but its full sort)
        t = time.perf_counter()
        order = docid_order(docids)
        entry["docid_order_s"] = time.perf_counter() - t
        t = time.perf_counter()
        given = batch_search(retriever, ids, docids, k, ties=ties, pad_zero_scores=pad,
                             order=order)
        entry["given_order_qps"] = len(ids) / (time.perf_counter() - t)
        entry["given_order_same"] = min(same(old[0], given[0]), same(old[1], given[1]))
        del given
    extra["modes"].append(entry)
    print(json.dumps(entry), file=sys.stderr, flush=True)
    del old, new

if {bm25s_numba}:  # bm25s' own retrieval, for reference (float32 sums, its own tie order)
    old_ids, old_scores = today("docid", False)
    retriever.backend = "numba"
    usable = [i for i, q in enumerate(ids) if q]
    retriever.retrieve([ids[i] for i in usable[:2]], k=k, show_progress=False,
                       n_threads={threads}[-1])  # compiles
    t = time.perf_counter()
    docs, sc = retriever.retrieve([ids[i] for i in usable], k=k, show_progress=False,
                                  n_threads={threads}[-1])
    secs = time.perf_counter() - t
    top_equal = sum(set(docs[j][sc[j] > 0].tolist()) == set(old_ids[i].tolist())
                    for j, i in enumerate(usable))
    order_equal = sum(np.array_equal(docs[j][sc[j] > 0], old_ids[i])
                      for j, i in enumerate(usable))
    extra["bm25s_numba"] = {{"threads": {threads}[-1], "queries": len(usable),
                            "qps": len(usable) / secs, "same_top_k_set": int(top_equal),
                            "same_ranking": int(order_equal)}}
"""


def child(body: str, **fmt) -> dict:
    """Run one stage in a fresh interpreter; its wall time, peak RSS and extras."""
    program = CHILD.format(src=str(common.REPO / "src"), bench=str(common.REPO / "benchmarks"),
                           body=textwrap.dedent(body).format(**fmt))
    out = subprocess.run([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    if out.returncode:
        raise SystemExit(f"stage failed (exit {out.returncode}); its error is above")
    return json.loads(out.stdout.strip().splitlines()[-1])


def stage(name: str, done: Path, body: str, **fmt) -> dict:
    """A build stage, skipped (and reported as reused) when its output exists."""
    if done.exists():
        print(f"{name}: reusing {done}", flush=True)
        return {"reused": True}
    print(f"{name}: building {done} ...", flush=True)
    res = child(body, **fmt)
    print(f"{name}: {res['wall_s']:.0f} s, peak RSS {res['peak_rss_mb']:.0f} MB", flush=True)
    return res


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1_200_000)
    parser.add_argument("--queries", type=int, default=1000,
                        help="queries searched (the first of the synthetic examples file)")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder of the data, corpus and index (reused when present); "
                             "default benchmarks/out/bm25-batch-<products>")
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--k1", type=float, default=1.5)
    parser.add_argument("--b", type=float, default=0.75)
    parser.add_argument("--analyzer", default="notebook", help="as the bm25 approach's")
    parser.add_argument("--ties", choices=["docid", "notebook"], default="docid")
    parser.add_argument("--pad-zero-scores", action="store_true")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="batch_search thread counts to time")
    parser.add_argument("--all-modes", action="store_true",
                        help="also check (and time) the other ties / pad_zero_scores settings")
    parser.add_argument("--no-bm25s-numba", action="store_true",
                        help="skip the reference run of bm25s' own numba retrieval")
    args = parser.parse_args(argv)
    if not 1 <= args.queries <= SYNTH_QUERIES:
        parser.error(f"--queries: 1 to {SYNTH_QUERIES}")

    label = synth.size_label(args.products)
    work = args.work or common.OUT / f"bm25-batch-{label}"
    work.mkdir(parents=True, exist_ok=True)
    data, corpus, index = work / "data", work / "corpus.parquet", work / "bm25"
    meta = work / "built.json"
    wanted = {"products": args.products, "synth_queries": SYNTH_QUERIES, "k1": args.k1,
              "b": args.b, "analyzer": args.analyzer}
    if meta.exists() and json.loads(meta.read_text()) != wanted:
        raise SystemExit(f"{work} holds a catalogue built with {meta.read_text()}; "
                         f"use another --work or delete it")
    meta.write_text(json.dumps(wanted))
    start = time.perf_counter()
    result = {"products": args.products, "k": args.k, "work": str(work), "stages": {}}
    result["stages"]["synth"] = stage("synth", data / synth.EXAMPLES_FILE, DATA_STAGE,
                                      n=args.products, q=SYNTH_QUERIES, out=str(data))
    result["stages"]["corpus"] = stage("corpus", corpus, CORPUS_STAGE,
                                       products=str(data / synth.PRODUCTS_FILE),
                                       corpus=str(corpus))
    result["stages"]["bm25_index"] = stage("bm25_index", index / "shopbench.json", INDEX_STAGE,
                                           corpus=str(corpus), index=str(index), k1=args.k1,
                                           b=args.b, analyzer=args.analyzer)
    result["build_s"] = time.perf_counter() - start
    print(f"catalogue ready in {result['build_s']:.0f} s; searching ...", flush=True)
    search = child(SEARCH_STAGE, index=str(index), corpus=str(corpus),
                   examples=str(data / synth.EXAMPLES_FILE), n_queries=args.queries,
                   analyzer=args.analyzer, k=args.k, ties=args.ties, pad=args.pad_zero_scores,
                   threads=tuple(args.threads), all_modes=args.all_modes,
                   bm25s_numba=not args.no_bm25s_numba)
    result["search"] = search
    n = search["queries"]
    print(f"\n{search['products']:,} products, {n} queries (mean {search['terms_per_query']:.1f}"
          f" terms, {search['postings_per_query']:,.0f} postings; {search['no_term']} with no "
          f"known term), top {args.k}; search process peak RSS {search['peak_rss_mb']:.0f} MB, "
          f"kernel warm-up {search['warm_up_s']:.1f} s")
    print(f"{'ties':<9} {'pad':<5} {'today q/s':>10} {'threads':>7} {'new q/s':>9} "
          f"{'ratio':>7}  identical")
    for mode in search["modes"]:
        for new in mode["new"]:
            same = new["same_positions"] == n and new["same_scores"] == n
            print(f"{mode['ties']:<9} {str(mode['pad_zero_scores']):<5} "
                  f"{mode['today_qps']:>10.1f} {new['threads']:>7} {new['qps']:>9.1f} "
                  f"{new['qps'] / mode['today_qps']:>6.1f}x  "
                  f"{'yes' if same else 'NO'} ({new['same_positions']}/{n} rankings, "
                  f"{new['same_scores']}/{n} score lists)")
        if "given_order_qps" in mode:
            print(f"{'':<15} order given: {mode['given_order_qps']:.1f} q/s "
                  f"({mode['given_order_qps'] / mode['today_qps']:.1f}x; computing it took "
                  f"{mode['docid_order_s']:.2f} s), identical "
                  f"{'yes' if mode['given_order_same'] == n else 'NO'}")
    if "bm25s_numba" in search:
        ref = search["bm25s_numba"]
        print(f"bm25s retrieve (numba, {ref['threads']} thread(s), float32 sums): "
              f"{ref['qps']:.1f} q/s; same top-{args.k} set as today for "
              f"{ref['same_top_k_set']}/{ref['queries']} queries, same ranking for "
              f"{ref['same_ranking']}/{ref['queries']}")
    identical = all(new["same_positions"] == n and new["same_scores"] == n
                    and mode.get("given_order_same", n) == n
                    for mode in search["modes"] for new in mode["new"])
    result["identical"] = identical
    common.save(f"bm25-batch-{label}", result)
    if not identical:
        raise SystemExit("batch_search differs from today's path")


if __name__ == "__main__":
    main()

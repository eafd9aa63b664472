"""Batched BM25 search over a bm25s index, exact and fast at catalogue scale.

:func:`batch_search` returns, per query, what ``catalogue.bm25_scores_batched`` then
``trec.top_k`` then the zero-score filter give (the catalogue's BM25 search): the same corpus
positions in the same order and the same float32 scores, bit for bit, for both ``ties`` rules
and with or without ``pad_zero_scores``. It gets there without a dense row per query:

* Scores are summed as that path sums them: one float64 accumulator per product, the stored
  float32 weights added in the order of the query's term ids (repeats included), postings in
  index order, each sum then rounded to float32. That is exactly what ``np.bincount`` with
  float64 weights over the concatenated postings does, so the float32 scores are identical
  (bm25s' own ``get_scores_from_ids`` and its numba backend sum in float32, which differs in
  the last bit). The accumulator is a per-thread scratch array, reset through the query's own
  postings, so a query costs O(its postings), not O(products).
* The best ``k`` are kept in a heap ordered by (float32 score descending, docid ascending):
  the order ``top_k(ties="docid")`` gives, products of equal docid in corpus order.
  ``pad_zero_scores`` appends the products that score 0 in docid order.
* ``ties="notebook"`` (``np.argsort(scores)[::-1]`` over the whole row) orders equal scores by
  an unstable sort of the whole row, which nothing short of that sort reproduces. When the
  ranking kept has no equal scores (and none at the cut, and no zero-score padding) it is the
  same whatever the tie rule, and the heap's ranking is returned; otherwise that query's whole
  score row is built (the same sums) and ranked by ``top_k`` as the catalogue path does, so
  its result is the same by construction, at about the old speed (the full sort dominates).
* A negative or NaN score (no BM25 index of shopbench has one) sends its query down that same
  exact path.

The kernels are compiled by numba (cached on disk after the first run) and release the GIL,
so ``threads`` workers search queries in parallel, each with its own scratch arrays
(9 bytes per product).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from .trec import TIES, top_k

#: Queries handed to a worker thread at a time.
CHUNK = 16


@numba.njit(nogil=True, cache=True)
def _worse(s1, r1, s2, r2) -> bool:
    """Entry 1 ranks after entry 2: a lower score, or the same score and a later docid."""
    return s1 < s2 or (s1 == s2 and r1 > r2)


@numba.njit(nogil=True, cache=True)
def _offer(hs, hr, hd, n, s, r, d):
    """Offer (score s, docid rank r, position d) to the heap of the ``len(hs)`` best (its
    worst entry at the root) holding ``n`` entries; returns the new count."""
    cap = hs.shape[0]
    if n < cap:
        i = n
        hs[i], hr[i], hd[i] = s, r, d
        while i > 0:
            p = (i - 1) // 2
            if not _worse(hs[i], hr[i], hs[p], hr[p]):
                break
            hs[i], hs[p] = hs[p], hs[i]
            hr[i], hr[p] = hr[p], hr[i]
            hd[i], hd[p] = hd[p], hd[i]
            i = p
        return n + 1
    if not _worse(hs[0], hr[0], s, r):
        return n
    hs[0], hr[0], hd[0] = s, r, d
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _worse(hs[c + 1], hr[c + 1], hs[c], hr[c]):
            c += 1
        if not _worse(hs[c], hr[c], hs[i], hr[i]):
            break
        hs[i], hs[c] = hs[c], hs[i]
        hr[i], hr[c] = hr[c], hr[i]
        hd[i], hd[c] = hd[c], hd[i]
        i = c
    return n


@numba.njit(nogil=True, cache=True)
def _search_one(data, indices, indptr, terms, rank, perm, acc, seen, cap, pad_to):
    """One query: its float32 scores summed in float64 in ``acc`` (term order, as bincount),
    the ``cap`` best positive ones by (score desc, docid rank asc), then, when ``pad_to`` asks
    for more than the positives, the zero-score positions in docid order. Leaves ``acc`` and
    ``seen`` all zero. Returns (positions, scores, number of positives, any negative/NaN)."""
    n_docs = acc.shape[0]
    postings = 0
    for t in terms:
        postings += indptr[t + 1] - indptr[t]
        for j in range(indptr[t], indptr[t + 1]):
            acc[indices[j]] += np.float64(data[j])
    hs = np.empty(cap, dtype=np.float32)
    hr = np.empty(cap, dtype=np.int64)
    hd = np.empty(cap, dtype=np.int64)
    n = 0
    positives = 0
    odd = False
    if 2 * postings >= n_docs:  # most products touched: one pass over all of them
        for d in range(n_docs):
            s = np.float32(acc[d])
            acc[d] = 0.0
            if s > 0:
                positives += 1
                if n < cap or not s < hs[0]:
                    n = _offer(hs, hr, hd, n, s, rank[d], d)
            elif not s == 0:
                odd = True
    else:  # each touched product once, through the postings
        for t in terms:
            for j in range(indptr[t], indptr[t + 1]):
                d = indices[j]
                if seen[d]:
                    continue
                seen[d] = 1
                s = np.float32(acc[d])
                acc[d] = 0.0
                if s > 0:
                    positives += 1
                    if n < cap or not s < hs[0]:
                        n = _offer(hs, hr, hd, n, s, rank[d], d)
                elif not s == 0:
                    odd = True
        for t in terms:
            for j in range(indptr[t], indptr[t + 1]):
                seen[indices[j]] = 0
    need = pad_to - n
    if odd or need <= 0 or positives > n:
        return hd[:n].copy(), hs[:n].copy(), positives, odd
    # Padding: every positive is in the heap; the rest score 0. First the zeros in docid order.
    pos = np.empty(n + need, dtype=np.int64)
    sc = np.zeros(n + need, dtype=np.float32)
    pos[:n] = hd[:n]
    sc[:n] = hs[:n]
    for i in range(n):
        seen[hd[i]] = 1
    m = n
    for r in range(n_docs):
        d = perm[r]
        if seen[d]:
            continue
        pos[m] = d
        m += 1
        if m == n + need:
            break
    for i in range(n):
        seen[hd[i]] = 0
    return pos[:m].copy(), sc[:m].copy(), positives, odd


@numba.njit(nogil=True, cache=True)
def _zero_columns(data, indptr, terms):
    """Per term: every stored weight is 0 (checked from the first, so cheap when not)."""
    out = np.zeros(terms.shape[0], dtype=np.bool_)
    for i in range(terms.shape[0]):
        t = terms[i]
        zero = True
        for j in range(indptr[t], indptr[t + 1]):
            if data[j] != 0:
                zero = False
                break
        out[i] = zero
    return out


@numba.njit(nogil=True, cache=True)
def _dense_row(data, indices, indptr, terms, acc, row):
    """The query's float32 score row, as ``catalogue.bm25_scores_batched`` computes it (the
    same float64 sums in the same order, rounded once), written into ``row``; leaves ``acc``
    all zero."""
    for t in terms:
        for j in range(indptr[t], indptr[t + 1]):
            acc[indices[j]] += np.float64(data[j])
    for d in range(acc.shape[0]):
        row[d] = np.float32(acc[d])
        acc[d] = 0.0


def docid_order(docids: np.ndarray) -> np.ndarray:
    """Positions in docid order, equal docids in corpus order: the order in which
    ``np.lexsort((docids, scores))`` breaks ties between equal scores."""
    docids = np.asarray(docids)
    if docids.dtype == object and all(type(x) is str and not x.endswith("\0") for x in docids):
        docids = docids.astype(str)  # same order, fixed-width strings sort 5x faster
    return np.argsort(docids, kind="stable")


def batch_search(retriever, query_ids: list[list[int]], docids: np.ndarray, k: int,
                 ties: str = "docid", pad_zero_scores: bool = False,
                 threads: int = 1) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """BM25 rankings of a batch of queries over a bm25s index, per query: corpus positions
    (int64) and their float32 scores, best first.

    ``retriever``: a ``bm25s.BM25`` with its ``scores`` (``data``, ``indices``, ``indptr``,
    ``num_docs``; memory-mapped is fine) and no non-occurrence array; ``query_ids``: per query
    its term ids, repeats kept (``[vocab[t] for t in tokenize(q) if t in vocab]``);
    ``docids``: the corpus' product ids, one per indexed product, for the tie rule.

    Identical to, for each query, ``row = catalogue.bm25_scores_batched(retriever, [ids])[0]``,
    ``order, top = trec.top_k(row, docids, k, ties=ties)``, then unless ``pad_zero_scores``
    only the entries with ``top > 0``. Raises ValueError on an unknown ``ties``, a negative
    ``k``, ``threads`` below 1, ``docids`` not matching the index, a term id outside it, or an
    index with a non-occurrence score (BM25L, BM25+).
    """
    if ties not in TIES:
        raise ValueError(f"unknown ties {ties!r}; use one of {list(TIES)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be a whole number >= 0, got {k!r}")
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a whole number >= 1, got {threads!r}")
    if getattr(retriever, "nonoccurrence_array", None) is not None:
        raise ValueError(f"batch_search sums the stored weights only; this index "
                         f"(method {getattr(retriever, 'method', '?')!r}) also has a "
                         f"non-occurrence score: search it with bm25s' retrieve")
    data, indices, indptr = (np.asarray(retriever.scores[key])
                             for key in ("data", "indices", "indptr"))
    n_docs, n_terms = int(retriever.scores["num_docs"]), len(indptr) - 1
    docids = np.asarray(docids)
    if docids.ndim != 1 or len(docids) != n_docs:
        raise ValueError(f"docids holds {docids.size} ids, the index {n_docs} products")
    terms = []
    for q, ids in enumerate(query_ids):
        arr = np.asarray(ids if len(ids) else [], dtype=np.int64)
        if arr.ndim != 1:
            raise ValueError(f"query {q}: term ids must be a flat list of integers")
        if len(arr) and (arr.min() < 0 or arr.max() >= n_terms):
            bad = arr[(arr < 0) | (arr >= n_terms)][0]
            raise ValueError(f"query {q}: term id {bad} is outside the index's "
                             f"{n_terms} terms")
        terms.append(arr)
    n_q = len(terms)
    if k == 0 or n_q == 0:
        return ([np.empty(0, dtype=np.int64) for _ in range(n_q)],
                [np.empty(0, dtype=np.float32) for _ in range(n_q)])
    # A term whose weights are all 0 (bm25s' Robertson idf is 0 for a word in half the
    # products or more) changes no sum: x + 0.0 == x + -0.0 == x for every x but -0.0, and a
    # sum that starts at +0.0 is never -0.0. The fast path skips its postings.
    used = np.unique(np.concatenate(terms)) if any(len(t) for t in terms) else np.empty(0, int)
    zero = set(used[_zero_columns(data, indptr, used)].tolist())
    fast = [t[~np.isin(t, list(zero))] if zero else t for t in terms]
    perm = docid_order(docids)
    rank = np.empty(n_docs, dtype=np.int64)
    rank[perm] = np.arange(n_docs, dtype=np.int64)
    notebook = ties == "notebook"
    cap = min(k + 1 if notebook else k, n_docs)
    pad_to = min(k, n_docs) if pad_zero_scores and not notebook else 0
    positions: list = [None] * n_q
    scores: list = [None] * n_q
    local = threading.local()

    def exact(q):
        row = np.empty(n_docs, dtype=np.float32)
        _dense_row(data, indices, indptr, terms[q], local.acc, row)
        order, top = top_k(row, docids, k, ties=ties)
        if not pad_zero_scores:
            order, top = order[top > 0], top[top > 0]
        return np.asarray(order, dtype=np.int64), top

    def run(start):
        if not hasattr(local, "acc"):
            local.acc = np.zeros(n_docs, dtype=np.float64)
            local.seen = np.zeros(n_docs, dtype=np.uint8)
        for q in range(start, min(start + CHUNK, n_q)):
            pos, sc, positives, odd = _search_one(data, indices, indptr, fast[q], rank, perm,
                                                  local.acc, local.seen, cap, pad_to)
            if not odd:
                n = min(len(pos), positives)  # positives first, then the zero-score padding
                order = np.lexsort((rank[pos[:n]], -sc[:n]))
                pos = np.concatenate([pos[:n][order], pos[n:]])
                sc = np.concatenate([sc[:n][order], sc[n:]])
                if notebook:
                    kept = min(k, positives)
                    tied = kept > 1 and bool(np.any(sc[1:kept] == sc[:kept - 1]))
                    if tied or (positives > k and sc[k - 1] == sc[k]) \
                            or (pad_zero_scores and positives < k):
                        odd = True  # equal scores: the notebook's sort decides their order
                    pos, sc = pos[:kept], sc[:kept]
            if odd:
                pos, sc = exact(q)
            positions[q], scores[q] = pos, sc

    starts = range(0, n_q, CHUNK)
    if threads == 1 or n_q <= CHUNK:
        for s in starts:
            run(s)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(run, starts))
    return positions, scores

"""Batched BM25 search over a bm25s index, exact and fast at catalogue scale.

:func:`batch_search` returns, per query, what ``catalogue.bm25_scores_batched`` then
``trec.top_k`` then the zero-score filter give (the catalogue's BM25 search): the same corpus
positions in the same order and the same float32 scores, bit for bit, for both ``ties`` rules
and with or without ``pad_zero_scores``. It gets there without a dense row per query:

* Scores are summed as that path sums them: per product, from 0.0, the stored float32
  weights as float64 in the order of the query's term ids (repeats included), then rounded
  to float32; that is the sequence of additions ``np.bincount`` with float64 weights makes
  over the concatenated postings. (bm25s' own ``get_scores_from_ids`` and its numba
  backend sum in float32, which differs in the last bit.)
* The query's postings lists are merged document at a time (they are in product order), so
  a query costs its postings, not a pass over every product; lists whose weights are all 0
  (Robertson idf 0: a word in half the products or more) are skipped, as adding 0.0 changes
  no sum. Once k products are held, MaxScore pruning (each list's largest weight as its
  bound, with a margin for rounding) stops enumerating the products of lists too weak to
  reach the k-th score and drops products whose bound cannot reach it; scores only decide
  membership, every kept product is scored exactly as above.
* The best ``k`` are kept in a heap ordered by (float32 score descending, docid ascending):
  the order ``top_k(ties="docid")`` gives, products of equal docid in corpus order.
  ``pad_zero_scores`` appends the products that score 0 in docid order.
* ``ties="notebook"`` (``np.argsort(scores)[::-1]`` over the whole row) orders equal scores by
  an unstable sort of the whole row, which nothing short of that sort reproduces. When the
  ranking kept has no equal scores (and none at the cut, and no zero-score padding) it is the
  same whatever the tie rule, and the heap's ranking is returned; otherwise that query's whole
  score row is built (the same sums) and ranked by ``top_k`` as the catalogue path does, so
  its result is the same by construction, at about the old speed (the full sort dominates).
* A negative or NaN weight or a postings list out of product order (no index of shopbench
  has one) turns pruning off for its query, and a negative or NaN score or a list out of
  order sends the query down that same exact path.

The kernels are compiled by numba (cached on disk after the first run) and release the GIL,
so ``threads`` workers search queries in parallel.
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
def _column_stats(data, indices, indptr, terms):
    """Per term: its largest weight (float64), whether every weight is 0, and whether its
    column is clean (no weight negative or NaN, products strictly increasing)."""
    m = terms.shape[0]
    top = np.zeros(m, dtype=np.float64)
    zero = np.ones(m, dtype=np.bool_)
    clean = np.ones(m, dtype=np.bool_)
    for i in range(m):
        t = terms[i]
        best = 0.0
        for j in range(indptr[t], indptr[t + 1]):
            w = np.float64(data[j])
            if w != 0:
                zero[i] = False
            if not w >= 0 or (j > indptr[t] and indices[j] <= indices[j - 1]):
                clean[i] = False
            if w > best:
                best = w
        top[i] = best
    return top, zero, clean


@numba.njit(nogil=True, cache=True)
def _seek(indices, p, e, d):
    """The first position in [p, e) whose product is >= d (galloping, then bisection)."""
    if p >= e or indices[p] >= d:
        return p
    lo, step, hi = p, 1, p + 1  # indices[lo] < d
    while hi < e and indices[hi] < d:
        lo = hi
        step *= 2
        hi = lo + step
    if hi > e:
        hi = e
    while hi - lo > 1:  # indices[lo] < d; hi == e or indices[hi] >= d
        mid = (lo + hi) // 2
        if indices[mid] < d:
            lo = mid
        else:
            hi = mid
    return hi


#: Relative margin of the pruning bounds (float64 sums in another order, float32 rounding).
MARGIN = 1e-6


@numba.njit(nogil=True, cache=True)
def _search_one(data, indices, indptr, terms, bounds, prune, rank, perm, n_docs, cap, pad_to):
    """One query, document at a time: its postings lists merged in product order, each
    product's score summed in float64 over its terms in query order from 0.0 (the additions
    ``np.bincount`` makes) and rounded to float32, the ``cap`` best positive ones kept by
    (score desc, docid rank asc); then, when ``pad_to`` asks for more than the positives,
    the zero-score positions in docid order.

    With ``prune`` (every list clean: weights >= 0, products increasing), MaxScore: once the
    heap is full, the lists whose ``bounds`` (largest weights) sum below its worst score
    (less a margin) cannot make a product competitive on their own, so products are taken
    from the other lists only and the pruned lists are searched for those products; a
    product whose bound falls below the worst score is dropped unscored. Every list is
    merged in full otherwise, and ``odd`` reports a negative or NaN score or a list that is
    not strictly increasing (the caller then takes the exact path).

    Returns (positions, scores, number of positives kept, odd)."""
    q = terms.shape[0]
    ptr = np.empty(q, dtype=np.int64)
    end = np.empty(q, dtype=np.int64)
    head = np.empty(q, dtype=np.int64)  # each list's current product (n_docs: exhausted)
    for i in range(q):
        ptr[i], end[i] = indptr[terms[i]], indptr[terms[i] + 1]
        head[i] = indices[ptr[i]] if ptr[i] < end[i] else n_docs
    by_bound = np.argsort(bounds, kind="mergesort")  # pruned lists: a prefix of this order
    below = np.zeros(q + 1, dtype=np.float64)  # below[m]: sum of the m smallest bounds
    for m in range(q):
        below[m + 1] = below[m] + bounds[by_bound[m]]
    essential = np.ones(q, dtype=np.bool_)
    n_ne = 0
    weight = np.zeros(q, dtype=np.float64)
    present = np.zeros(q, dtype=np.bool_)
    hs = np.empty(cap, dtype=np.float32)
    hr = np.empty(cap, dtype=np.int64)
    hd = np.empty(cap, dtype=np.int64)
    n = 0
    odd = False
    theta = 0.0
    while True:
        d = n_docs
        for i in range(q):
            if essential[i] and head[i] < d:
                d = head[i]
        if d == n_docs:
            break
        partial = 0.0
        for i in range(q):
            present[i] = False
            if essential[i] and head[i] == d:
                present[i] = True
                weight[i] = np.float64(data[ptr[i]])
                partial += weight[i]
                ptr[i] += 1
                if ptr[i] < end[i]:
                    head[i] = indices[ptr[i]]
                    if head[i] <= d:
                        odd = True
                        head[i] = n_docs
                else:
                    head[i] = n_docs
        if n_ne:
            if (partial + below[n_ne]) * (1 + MARGIN) < theta:
                continue  # cannot reach the heap
            hopeless = False
            for m in range(n_ne - 1, -1, -1):  # the pruned lists, largest bound first
                i = by_bound[m]
                ptr[i] = _seek(indices, ptr[i], end[i], d)
                if ptr[i] < end[i] and indices[ptr[i]] == d:
                    present[i] = True
                    weight[i] = np.float64(data[ptr[i]])
                    partial += weight[i]
                    ptr[i] += 1
                if (partial + below[m]) * (1 + MARGIN) < theta:
                    hopeless = True
                    break
            if hopeless:
                continue
        total = 0.0
        for i in range(q):  # the exact sum: query order, as bincount adds
            if present[i]:
                total += weight[i]
        s = np.float32(total)
        if s > 0:
            if n < cap or not s < hs[0]:
                n = _offer(hs, hr, hd, n, s, rank[d], d)
                if prune and n == cap:
                    theta = np.float64(hs[0])
                    while n_ne < q and below[n_ne + 1] * (1 + MARGIN) < theta:
                        essential[by_bound[n_ne]] = False
                        n_ne += 1
        elif not s == 0:
            odd = True
    need = pad_to - n
    if odd or need <= 0:
        return hd[:n].copy(), hs[:n].copy(), n, odd
    # Padding: every positive is in the heap; the rest score 0. First the zeros in docid order.
    pos = np.empty(n + need, dtype=np.int64)
    sc = np.zeros(n + need, dtype=np.float32)
    pos[:n] = hd[:n]
    sc[:n] = hs[:n]
    taken = np.sort(hd[:n])
    m = n
    for r in range(n_docs):
        d = perm[r]
        if n:
            at = np.searchsorted(taken, d)
            if at < n and taken[at] == d:
                continue
        pos[m] = d
        m += 1
        if m == n + need:
            break
    return pos[:m].copy(), sc[:m].copy(), n, odd


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
                 threads: int = 1, *, order: np.ndarray | None = None
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """BM25 rankings of a batch of queries over a bm25s index, per query: corpus positions
    (int64) and their float32 scores, best first.

    ``retriever``: a ``bm25s.BM25`` with its ``scores`` (``data``, ``indices``, ``indptr``,
    ``num_docs``; memory-mapped is fine) and no non-occurrence array; ``query_ids``: per query
    its term ids, repeats kept (``[vocab[t] for t in tokenize(q) if t in vocab]``);
    ``docids``: the corpus' product ids, one per indexed product, for the tie rule;
    ``order``: ``docid_order(docids)`` when the caller has it (it costs about 0.8 s at 1.2M
    products; computed here otherwise). ``threads``: worker threads (the kernels run
    without the GIL).

    Identical to, for each query, ``row = catalogue.bm25_scores_batched(retriever, [ids])[0]``,
    ``order, top = trec.top_k(row, docids, k, ties=ties)``, then unless ``pad_zero_scores``
    only the entries with ``top > 0``. Raises ValueError on an unknown ``ties``, a negative
    ``k``, ``threads`` below 1, ``docids`` not matching the index, an ``order`` that is not a
    permutation of the products, a term id outside the index, or an index with a
    non-occurrence score (BM25L, BM25+).
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
    top, zero, clean = _column_stats(data, indices, indptr, used)
    fast, bounds, prune = [], [], []
    for t in terms:
        at = np.searchsorted(used, t)
        keep = ~zero[at]
        fast.append(t[keep])
        bounds.append(top[at][keep])
        prune.append(bool(clean[at].all()))
    if order is None:
        perm = docid_order(docids)
    else:
        perm = np.asarray(order)
        if perm.shape != (n_docs,) or perm.dtype.kind not in "iu" or (n_docs and (
                perm.min() < 0 or perm.max() >= n_docs
                or not (np.bincount(perm, minlength=n_docs) == 1).all())):
            raise ValueError(f"order must be a permutation of the {n_docs} products' "
                             f"positions (docid_order(docids))")
    rank = np.empty(n_docs, dtype=np.int64)
    rank[perm] = np.arange(n_docs, dtype=np.int64)
    notebook = ties == "notebook"
    cap = min(k + 1 if notebook else k, n_docs)
    pad_to = min(k, n_docs) if pad_zero_scores and not notebook else 0
    positions: list = [None] * n_q
    scores: list = [None] * n_q
    local = threading.local()

    def exact(q):
        if not hasattr(local, "acc"):
            local.acc = np.zeros(n_docs, dtype=np.float64)
        row = np.empty(n_docs, dtype=np.float32)
        _dense_row(data, indices, indptr, terms[q], local.acc, row)
        got, top = top_k(row, docids, k, ties=ties)
        if not pad_zero_scores:
            got, top = got[top > 0], top[top > 0]
        return np.array(got, dtype=np.int64), top  # a copy: top_k's may view a full sort

    def run(start):
        for q in range(start, min(start + CHUNK, n_q)):
            pos, sc, positives, odd = _search_one(data, indices, indptr, fast[q], bounds[q],
                                                  prune[q], rank, perm, n_docs, cap, pad_to)
            if not odd:
                n = min(len(pos), positives)  # positives first, then the zero-score padding
                by = np.lexsort((rank[pos[:n]], -sc[:n]))
                pos = np.concatenate([pos[:n][by], pos[n:]])
                sc = np.concatenate([sc[:n][by], sc[n:]])
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

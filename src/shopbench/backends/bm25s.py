"""bm25s (ATIRE tf, Robertson idf): ranks like ``BM25Okapi(epsilon=0)``; the catalogue backend.

The index is built column-wise (per-product term counts as arrays, one CSR to CSC conversion),
array for array equal to ``bm25s.BM25.index`` (tested), saved with bm25s' own format and
memory-mapped when searching, so a query touches only its own terms' postings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import bm25


def _term_counts(texts: list[str], tokenize, vocab: dict[str, int]):
    """Per product: sorted unique term ids, their counts, and the product's length."""
    flat, doc_len = [], np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        ids = [vocab.setdefault(tok, len(vocab)) for tok in tokenize(text)]
        doc_len[i] = len(ids)
        flat.extend(ids)
    tokens = np.asarray(flat, dtype=np.int64)
    docs = np.repeat(np.arange(len(texts), dtype=np.int64), doc_len)
    pairs, counts = np.unique(docs << 32 | tokens, return_counts=True)
    return (pairs >> 32), (pairs & 0xFFFFFFFF).astype(np.int32), counts, doc_len


class Scorer:
    """A bm25s retriever (in memory or memory-mapped) scoring token lists."""

    def __init__(self, retriever, n_docs: int, empty_docs: list[int]):
        self.retriever, self.n_docs, self.empty_docs = retriever, n_docs, empty_docs
        self.vocab = getattr(retriever, "vocab_dict", {})

    def ids(self, tokens: list[str]) -> list[int]:
        return [self.vocab[t] for t in tokens if t in self.vocab]

    def scores_ids(self, ids: list[int]) -> np.ndarray:
        """Every product's score (float32) for term ids (repeats counted, as bm25s counts
        them): one ``bincount`` over the terms' postings, summed in float64."""
        if not ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        data, indices, indptr = (self.retriever.scores[k] for k in ("data", "indices", "indptr"))
        spans = [(int(indptr[t]), int(indptr[t + 1])) for t in ids]
        docs = np.concatenate([np.asarray(indices[a:z]) for a, z in spans])
        weights = np.concatenate([np.asarray(data[a:z], dtype=np.float64) for a, z in spans])
        return np.bincount(docs, weights=weights, minlength=self.n_docs).astype(np.float32)

    def scores_tokens(self, tokens: list[str]) -> np.ndarray:
        return self.scores_ids(self.ids(tokens)).astype(np.float64)


def scorer(batches, analyzer, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.0):
    """The scorer of the texts in ``batches`` (lists of product texts, in corpus order)."""
    import bm25s
    import scipy.sparse as sp

    vocab: dict[str, int] = {}
    indices, counts, per_doc, lengths = [], [], [], []
    for texts in batches:
        docs, toks, cnt, doc_len = _term_counts(list(texts), analyzer, vocab)
        indices.append(toks)
        counts.append(cnt.astype(np.float32))
        per_doc.append(np.bincount(docs, minlength=len(doc_len)))
        lengths.append(doc_len)
    indices, tf = np.concatenate(indices), np.concatenate(counts)
    per_doc, lengths = np.concatenate(per_doc), np.concatenate(lengths)
    n_docs, n_vocab = len(lengths), len(vocab)
    # bm25s: idf (float32 array) = log(max(1, (N - df + 0.5) / (df + 0.5))); the term score
    # idf * tf (k1 + 1) / (tf + k1 (1 - b + b l_d / l_avg)) with tf (k1 + 1) in float32, the
    # rest in float64, stored float32: the same operations in the same precision as bm25s.
    df = np.bincount(indices, minlength=n_vocab)
    idf = np.log(np.maximum(1.0, (n_docs - df + 0.5) / (df + 0.5))).astype(np.float32)
    norm = np.repeat(k1 * (1 - b + b * lengths / lengths.mean()), per_doc)
    step = 1 << 24
    for s in range(0, len(tf), step):  # in place, a slice at a time
        t = tf[s:s + step]
        tf[s:s + step] = idf[indices[s:s + step]] * ((t * (k1 + 1)) / (t + norm[s:s + step]))
    del norm
    indptr = np.concatenate([[0], np.cumsum(per_doc)])
    csc = sp.csr_matrix((tf, indices, indptr), shape=(n_docs, n_vocab)).tocsc()
    del tf, indices
    retriever = bm25s.BM25(k1=k1, b=b, method="atire", idf_method="robertson")
    retriever.scores = {"data": csc.data.astype(np.float32, copy=False),
                        "indices": csc.indices.astype(np.int32, copy=False),
                        "indptr": csc.indptr, "num_docs": n_docs}
    retriever.vocab_dict = vocab
    retriever.nonoccurrence_array = None  # ATIRE needs none
    return Scorer(retriever, n_docs, np.flatnonzero(lengths == 0).tolist())


def save(scorer: Scorer, folder: Path) -> None:
    scorer.retriever.save(str(folder), show_progress=False)
    np.save(folder / "empty_products.npy", np.asarray(scorer.empty_docs, dtype=np.int64))


def open_scorer(folder: Path) -> Scorer:
    import bm25s

    retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
    retriever.scores["num_docs"] = n_docs = bm25.index_info(folder.parent)["num_docs"]
    return Scorer(retriever, n_docs, np.load(folder / "empty_products.npy").tolist())


def build(fields, out: str, **settings) -> None:
    bm25.build_index(scorer, save, fields, out, **settings)


class Index(bm25.SparseIndex):
    """A bm25s index; one unweighted field (the corpus text) is searched by the exact batched
    kernels of shopbench.bm25s_search (same rankings and scores as scoring every product, at
    95x the rate at 1.2M products: docs/benchmarks.md), field weighting by the sum."""

    _order = None

    def _single(self):
        (scorer, weight), *rest = self.fields.values()
        return scorer if not rest and weight == 1.0 else None

    def batch_search(self, queries: list[list[str]], k: int):
        from ..bm25s_search import batch_search, docid_order

        scorer = self._single()
        if scorer is None:
            return super().batch_search(queries, k)
        if self._order is None:
            self._order = docid_order(self.docids)
        positions, scores = batch_search(scorer.retriever, [scorer.ids(t) for t in queries],
                                         self.docids, k, self.ties, self.pad,
                                         order=self._order)
        return [(p, s.astype(np.float64)) for p, s in zip(positions, scores)]

    def search(self, tokens: list[str], k: int):
        if self._single() is None:
            return super().search(tokens, k)
        return self.batch_search([tokens], k)[0]


def load(path: str, docids, **settings):
    return bm25.load_index(open_scorer, path, docids, index_class=Index, **settings)

"""shopbench.bm25s_search.batch_search gives exactly what scoring every product gives (the
bm25s backend's ``Scorer.scores_ids``, one float64 ``bincount`` per query, then trec.top_k,
then the zero-score filter: the catalogue's BM25 search before the batched kernels): the same corpus
positions in the same order and the same float32 scores, for both tie rules, with and without
zero-score padding, on the real slice and on a synthetic catalogue made of ties."""

from __future__ import annotations

import subprocess
import sys

import bm25s
import numpy as np
import pandas as pd
import pytest

from shopbench import analyzers, backends, bm25, steps, text as T, trec
from shopbench.backends.bm25s import Scorer
from shopbench.bm25s_search import batch_search, docid_order

MODES = [(ties, pad) for ties in ("docid", "notebook") for pad in (False, True)]


def rows(retriever, ids):
    """Every product's float32 score per query, as the bm25s backend scores without kernels."""
    scorer = Scorer(retriever, retriever.scores["num_docs"], [])
    return np.vstack([scorer.scores_ids(q) for q in ids]) if ids else np.zeros((0, 0))


def load(folder, corpus):
    docids = pd.read_parquet(corpus, columns=["docid"])["docid"].to_numpy()
    index = backends.get("bm25s").load(str(folder), docids)
    return index.fields["text"][0].retriever


def today(retriever, ids, docids, k, ties, pad):
    """Scoring every product (the catalogue's path before the kernels): positions, scores."""
    positions, scores = [], []
    for row in rows(retriever, ids):
        order, top = trec.top_k(row, docids, k, ties=ties)
        if not pad:
            order, top = order[top > 0], top[top > 0]
        positions.append(order)
        scores.append(top)
    return positions, scores


def assert_identical(got, want):
    (got_pos, got_sc), (want_pos, want_sc) = got, want
    assert len(got_pos) == len(want_pos) == len(got_sc) == len(want_sc)
    for q, (gp, gs, wp, ws) in enumerate(zip(got_pos, got_sc, want_pos, want_sc)):
        assert gp.dtype == np.int64 and gs.dtype == np.float32 == ws.dtype, q
        assert np.array_equal(gp, wp), f"query {q}: positions differ"
        assert np.array_equal(gs.view(np.uint32), ws.view(np.uint32)), f"query {q}: scores"


def index_of(tmp_path, texts, *, analyzer=None, k1=1.5, b=0.75):
    corpus = tmp_path / "corpus.parquet"
    pd.DataFrame({"docid": [f"D{i}" for i in range(len(texts))], "title": "",
                  "text": texts}).to_parquet(corpus, index=False)
    steps.bm25_index(str(corpus), str(tmp_path / "bm25"), backend="bm25s",
                     analyzer=analyzer or "notebook", k1=k1, b=b)
    return load(tmp_path / "bm25", corpus)


# -- the real slice ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def slice_index(tmp_path_factory, esci_slice):
    tmp = tmp_path_factory.mktemp("bm25s_search")
    corpus = tmp / "corpus.parquet"
    fields = ["product_title", "product_brand", "product_bullet_point", "product_description"]
    T.catalogue_corpus(str(esci_slice / "shopping_queries_dataset_products.parquet"),
                       str(corpus), fields=fields, locale="us")
    steps.bm25_index(str(corpus), str(tmp / "bm25"), backend="bm25s", analyzer="notebook",
                     k1=1.5, b=0.75)
    retriever = load(tmp / "bm25", corpus)
    docids = pd.read_parquet(corpus, columns=["docid"])["docid"].to_numpy()
    queries = (pd.read_parquet(esci_slice / "shopping_queries_dataset_examples.parquet")
               .drop_duplicates("query_id")["query"].tolist())
    tokenize, vocab = analyzers.make("notebook"), retriever.vocab_dict
    ids = [[vocab[t] for t in tokenize(q) if t in vocab] for q in queries]
    return retriever, docids, ids, tmp


@pytest.mark.parametrize("ties, pad", MODES)
def test_the_slice_ranks_all_its_queries_as_the_catalogue_path(slice_index, ties, pad):
    retriever, docids, ids, _ = slice_index
    assert len(ids) == 150 and len(docids) > 6000 and sum(map(bool, ids)) > 140
    want = today(retriever, ids, docids, 100, ties, pad)
    assert_identical(batch_search(retriever, ids, docids, 100, ties=ties, pad_zero_scores=pad),
                     want)
    assert_identical(batch_search(retriever, ids, docids, 100, ties=ties, pad_zero_scores=pad,
                                  threads=2), want)
    if pad:
        assert all(len(p) == 100 for p in want[0])
    else:  # some queries match fewer than 100 products: the filter matters
        assert any(len(p) < 100 for p in want[0])
    for k in (1, 10):  # a higher cut prunes sooner
        assert_identical(batch_search(retriever, ids, docids, k, ties=ties,
                                      pad_zero_scores=pad),
                         today(retriever, ids, docids, k, ties, pad))


def test_the_slice_run_file_is_byte_identical(slice_index):
    retriever, docids, ids, tmp = slice_index
    qids = list(range(len(ids)))
    files = []
    for name, (pos, sc) in {"today": today(retriever, ids, docids, 100, "docid", False),
                            "new": batch_search(retriever, ids, docids, 100)}.items():
        trec.write_run(trec.run_frame(qids, [docids[p].tolist() for p in pos], sc, "bm25"),
                       tmp / f"{name}.run")
        files.append((tmp / f"{name}.run").read_bytes())
    assert files[0] == files[1] and files[0].count(b"\n") > 5000


# -- a synthetic catalogue of ties ------------------------------------------------------------
WORDS = ["red", "blue", "lamp", "cable", "desk", "oak"]


@pytest.fixture(scope="module")
def tied(tmp_path_factory):
    """3,000 short products of 1-4 words from 6 (repeats within a product): few distinct
    (term counts, length) pairs, so almost every score is shared by many products. The
    docids are shuffled, so docid order is not corpus order."""
    rng = np.random.default_rng(7)
    n = 3000
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(1, 5), p=[.4, .2, .15, .1, .1, .05]))
             for _ in range(n)]
    texts[:3] = ["zebra", "zebra zebra", "zebra red"]  # a rare word: fewer matches than k
    retriever = index_of(tmp_path_factory.mktemp("tied"), texts)
    docids = np.array([f"P{i:05d}" for i in rng.permutation(n)], dtype=object)
    vocab = retriever.vocab_dict
    queries = ["red", "blue", "lamp", "red blue", "red red", "cable desk oak", "oak oak oak",
               "zebra", "zebra red", "nothing known", "", "lamp zebra lamp", "desk red blue"]
    ids = [[vocab[t] for t in bm25.tokenize(q) if t in vocab] for q in queries]
    return retriever, docids, ids


def test_the_tied_catalogue_exercises_every_branch(tied):
    retriever, docids, ids = tied
    n = len(docids)
    indptr = np.asarray(retriever.scores["indptr"])
    postings = [int(sum(indptr[t + 1] - indptr[t] for t in q)) for q in ids]
    assert max(postings) * 2 >= n  # the kernel's pass over every product
    assert any(0 < p * 2 < n for p in postings)  # and its pass over the postings only
    assert [] in ids  # a query without a known term
    assert not np.array_equal(np.argsort(docids), np.arange(n))  # docid order != corpus order
    scored = rows(retriever, ids)
    _, sc = today(retriever, ids, docids, 11, "docid", False)
    assert sum(len(s) == 11 and s[9] == s[10] for s in sc) >= 3  # ties across the cut at 10
    assert any(0 < (row > 0).sum() < 10 for row in scored)  # fewer matches than k
    red = [retriever.vocab_dict["red"]]
    assert len(retriever.scores["indices"][indptr[red[0]]:indptr[red[0] + 1]]) > n / 2
    assert not rows(retriever, [red]).any()  # matches, all scoring 0


@pytest.mark.parametrize("ties, pad", MODES)
@pytest.mark.parametrize("k", [1, 10, 100, 2999, 5000])
def test_the_tied_catalogue_ranks_as_the_catalogue_path(tied, ties, pad, k):
    retriever, docids, ids = tied
    want = today(retriever, ids, docids, k, ties, pad)
    for threads in (1, 2):
        assert_identical(batch_search(retriever, ids, docids, k, ties=ties,
                                      pad_zero_scores=pad, threads=threads), want)
    if pad:
        assert all(len(p) == min(k, len(docids)) for p in want[0])


def test_a_word_in_most_products_scores_zero_and_is_dropped_unless_padded(tmp_path):
    # bm25s' Robertson idf is 0 for a word in half the products or more: matches scoring 0
    texts = ["cable red", "cable blue", "cable lamp", "desk", "oak", "cable"]
    retriever = index_of(tmp_path, texts)
    docids = np.array(["F", "E", "D", "C", "B", "A"], dtype=object)
    ids = [[retriever.vocab_dict["cable"]], [retriever.vocab_dict["cable"],
                                             retriever.vocab_dict["red"]]]
    pos, sc = batch_search(retriever, ids, docids, 4)
    assert len(pos[0]) == 0 and pos[1].tolist() == [0] and sc[1][0] > 0
    pos, sc = batch_search(retriever, ids, docids, 4, pad_zero_scores=True)
    assert pos[0].tolist() == [5, 4, 3, 2]  # docids A, B, C, D: zeros in docid order
    assert pos[1].tolist() == [0, 5, 4, 3] and sc[1][1:].tolist() == [0, 0, 0]
    for ties, pad in MODES:
        assert_identical(batch_search(retriever, ids, docids, 4, ties=ties,
                                      pad_zero_scores=pad),
                         today(retriever, ids, docids, 4, ties, pad))


def test_equal_docids_keep_corpus_order_as_top_k(tmp_path):
    texts = ["red lamp", "red lamp", "red lamp", "blue", "red lamp", "oak", "pine", "desk",
             "chair", "sofa"]
    retriever = index_of(tmp_path, texts)
    docids = np.array(["B", "A", "B", "C", "A", "D", "E", "F", "G", "H"], dtype=object)
    ids = [[retriever.vocab_dict["red"]], [], [retriever.vocab_dict["blue"]]]
    for ties, pad in MODES:
        want = today(retriever, ids, docids, 5, ties, pad)
        assert_identical(batch_search(retriever, ids, docids, 5, ties=ties,
                                      pad_zero_scores=pad), want)
    assert batch_search(retriever, ids, docids, 5)[0][0].tolist() == [1, 4, 0, 2]
    assert docid_order(docids).tolist() == [1, 4, 0, 2, 3, 5, 6, 7, 8, 9]


def test_negative_and_zero_weights_rank_as_the_catalogue_path(tmp_path):
    # not a BM25 index shopbench builds: a hand-made one with equal, negative, all-zero,
    # negative-zero and out-of-order columns (negative scores and lists out of order take the
    # exact path, zero columns are skipped)
    retriever = bm25s.BM25()
    columns = [([0, 2, 3], [0.5, 0.25, 0.5]), ([1, 2, 4], [1.0, -1.0, 0.0]),
               ([0, 1, 2, 3, 4], [0.0] * 5), ([1, 3], [-0.0, -0.0]), ([3], [0.25]),
               ([2, 0, 2], [0.5, 0.25, 0.5]), ([4, 1], [0.75, 0.5])]  # out of product order
    retriever.scores = {
        "data": np.array([w for _, ws in columns for w in ws], dtype=np.float32),
        "indices": np.array([d for ds, _ in columns for d in ds], dtype=np.int32),
        "indptr": np.cumsum([0] + [len(ds) for ds, _ in columns]), "num_docs": 5}
    docids = np.array(["e", "d", "c", "b", "a"], dtype=object)
    ids = [[0], [1], [0, 1], [1, 1, 0], [2], [2, 0], [0, 2, 4], [3], [3, 0], [3, 2], [],
           [4, 0, 3], [5], [5, 0], [0, 4, 5], [6], [6, 0, 4]]
    for ties, pad in MODES:
        for k in (1, 2, 5, 7):
            assert_identical(batch_search(retriever, ids, docids, k, ties=ties,
                                          pad_zero_scores=pad),
                             today(retriever, ids, docids, k, ties, pad))
    pos, sc = batch_search(retriever, ids, docids, 5, pad_zero_scores=True)
    assert pos[9].tolist() == [4, 3, 2, 1, 0] and not sc[9].any()  # docids a, b, c, d, e
    assert not np.signbit(sc[9]).any()  # +0.0, as the catalogue path: "0.000000"


def test_a_given_docid_order_gives_the_same_rankings(tied):
    retriever, docids, ids = tied
    order = docid_order(docids)
    assert np.array_equal(docids[order], np.sort(docids))
    for ties, pad in MODES:
        assert_identical(batch_search(retriever, ids, docids, 10, ties=ties,
                                      pad_zero_scores=pad, order=order),
                         today(retriever, ids, docids, 10, ties, pad))


def test_k_zero_and_no_queries_give_empty_rankings(tied):
    retriever, docids, ids = tied
    pos, sc = batch_search(retriever, ids, docids, 0, pad_zero_scores=True)
    assert len(pos) == len(ids) and all(len(p) == 0 for p in pos) and all(len(s) == 0 for s in sc)
    assert batch_search(retriever, [], docids, 10) == ([], [])


@pytest.mark.parametrize("kwargs, message", [
    ({"ties": "random"}, r"unknown ties 'random'; use one of \['docid', 'notebook'\]"),
    ({"k": -1}, r"k must be a whole number >= 0, got -1"),
    ({"k": 2.5}, r"k must be a whole number >= 0, got 2.5"),
    ({"threads": 0}, r"threads must be a whole number >= 1, got 0"),
])
def test_bad_arguments_are_errors(tied, kwargs, message):
    retriever, docids, ids = tied
    args = {"k": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        batch_search(retriever, ids, docids, **args)


def test_bad_inputs_are_errors(tied, tmp_path):
    retriever, docids, ids = tied
    n_terms = len(retriever.scores["indptr"]) - 1
    with pytest.raises(ValueError, match=r"docids holds 2999 ids, the index 3000 products"):
        batch_search(retriever, ids, docids[1:], 10)
    with pytest.raises(ValueError, match=rf"query 1: term id {n_terms} is outside the "
                                         rf"index's {n_terms} terms"):
        batch_search(retriever, [[0], [0, n_terms]], docids, 10)
    with pytest.raises(ValueError, match=r"query 0: term id -1 is outside"):
        batch_search(retriever, [[-1]], docids, 10)
    with pytest.raises(ValueError, match=r"query 0: term ids must be a flat list of integers"):
        batch_search(retriever, [[[0, 1]]], docids, 10)
    order = docid_order(docids)
    message = r"order must be a permutation of the 3000 products' positions"
    for bad in (order[1:], order.astype(float), np.zeros_like(order), order - 1):
        with pytest.raises(ValueError, match=message):
            batch_search(retriever, ids, docids, 10, order=bad)
    plus = bm25s.BM25(method="bm25+")
    plus.index([["red", "lamp"], ["blue"]], show_progress=False)
    with pytest.raises(ValueError, match=r"this index \(method 'bm25\+'\) also has a "
                                         r"non-occurrence score"):
        batch_search(plus, [[0]], np.array(["a", "b"]), 1)


def test_the_module_does_not_import_torch():
    code = ("import sys; import shopbench.bm25s_search; "
            "print(','.join(m for m in ('torch', 'faiss', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""

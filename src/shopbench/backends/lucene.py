"""Lucene BM25 (the scoring of OpenSearch and Elasticsearch) through the Lucene engine.

The index is a Lucene index folder (``out/lucene``) of one field, ``contents``, holding terms
and their frequencies only: no stored text, no positions, no id field. Products are added in
corpus order by one writer whose merge policy merges neighbouring segments only
(``LogByteSizeMergePolicy``), so Lucene's document number is the corpus position.

Analysis happens once, where the analyzer lives:

- ``analyzer: {name: lucene, language: ...}`` (english, es, ja, cjk, whitespace;
  shopbench.lucene.LANGUAGES): Lucene analyzes the product text itself while indexing, and
  the query through the same analyzer;
- any shopbench analyzer (notebook, english, ...): its tokens, joined by spaces, are indexed
  through Lucene's whitespace analyzer (Anserini's "pretokenized"), so BM25 is Lucene's on
  the very tokens rank-bm25 and bm25s see.

A query is its tokens as a disjunction of term queries, a token given n times weighted n (as
the other backends sum a repeated token's score). Lucene's BM25: idf = ln(1 + (N - df + 0.5) /
(df + 0.5)) with N the products with at least one term; per term idf * tf / (tf + k1 (1 - b +
b |d| / avgdl)), with |d| stored lossily in one byte (SmallFloat.intToByte4: exact up to 24
terms, then 4 significant bits) and scores in float32. Lucene ranks equal scores by document
number; ties here follow shopbench's rule (product id ascending): Lucene is asked for a few
more than k, deeper while a tie straddles the cut.

Search runs in the job's JVM (one start per job); with ``threads`` > 1 Lucene searches the
index' segments in parallel (the index is written in ``threads`` segments).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np

from .. import analyzers, lucene
from ..errors import ShopbenchError
from ..trec import top_k

log = logging.getLogger("shopbench")

USES_JVM = True
FIELD = "contents"


def _unsupported(fields=None, pad_zero_scores=False, ties="docid") -> None:
    if fields is not None and list(fields) not in (["text"],):
        raise ShopbenchError("backend lucene searches the corpus text (fields: null); field "
                             "weighting is not supported by it")
    if pad_zero_scores:
        raise ShopbenchError("backend lucene returns matching products only; "
                             "pad_zero_scores: true is not supported by it")
    if ties != "docid":
        raise ShopbenchError("backend lucene breaks ties by docid only (ties: docid)")


def _directory(path: Path):
    return lucene.autoclass("org.apache.lucene.store.FSDirectory").open(
        lucene.autoclass("java.io.File")(str(path)).toPath())


def write_index(texts, folder: Path, analyzer, threads: int = 1) -> int:
    """A Lucene index of ``texts`` (in order) at ``folder``, analyzed by ``analyzer`` (a Java
    analyzer); the number of products."""
    A, jn = lucene.autoclass, lucene.jvm()
    config = A("org.apache.lucene.index.IndexWriterConfig")(analyzer)
    config.setOpenMode(A("org.apache.lucene.index.IndexWriterConfig$OpenMode").CREATE)
    config.setMergePolicy(A("org.apache.lucene.index.LogByteSizeMergePolicy")())
    config.setRAMBufferSizeMB(256.0)
    writer = A("org.apache.lucene.index.IndexWriter")(_directory(folder), config)
    ftype = A("org.apache.lucene.document.FieldType")()
    ftype.setIndexOptions(A("org.apache.lucene.index.IndexOptions").DOCS_AND_FREQS)
    ftype.setTokenized(True)
    ftype.setStored(False)
    ftype.freeze()
    field = A("org.apache.lucene.document.Field")(
        FIELD, jn.cast("java.lang.CharSequence", A("java.lang.String")("")), ftype)
    doc = A("org.apache.lucene.document.Document")()
    doc.add(field)
    n = 0
    try:
        for text in texts:
            field.setStringValue(text)
            writer.addDocument(doc)
            n += 1
        writer.forceMerge(max(1, int(threads)))
        writer.commit()
    finally:
        writer.close()
    return n


def build(fields: dict, out: str, *, analyzer, k1: float, b: float, threads: int = 1,
          mem_mb: int | None = None) -> None:
    """The Lucene index of the corpus text (``{"text": () -> batches}``) with shopbench.json
    (products, settings, products left without a term); the folder appears whole or not."""
    _unsupported(fields=list(fields))
    lucene.configure(mem_mb)
    spec = analyzers.spec(analyzer)
    target = Path(out)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    start = time.perf_counter()
    empty: list[int] = []
    try:
        if spec["name"] == "lucene":
            java_analyzer = lucene.java_analyzer(spec["language"])
            texts = (t or "" for batch in fields["text"]() for t in batch)
        else:
            java_analyzer = lucene.java_analyzer("whitespace")
            analyze = analyzers.make(spec)

            def texts():
                for batch in fields["text"]():
                    for text in batch:
                        tokens = analyze(text or "")
                        if not tokens:
                            empty.append(pos[0])
                        pos[0] += 1
                        yield " ".join(tokens)
            pos = [0]
            texts = texts()
        n_docs = write_index(texts, tmp / "lucene", java_analyzer, threads)
        reader = lucene.autoclass("org.apache.lucene.index.DirectoryReader").open(
            _directory(tmp / "lucene"))
        n_empty = n_docs - reader.getDocCount(FIELD)
        reader.close()
        if spec["name"] == "lucene" and n_empty:  # examples: the first few, found by analysis
            analyze = analyzers.make(spec)
            for i, text in enumerate(t for batch in fields["text"]() for t in batch):
                if not analyze(text or ""):
                    empty.append(i)
                    if len(empty) == 5:
                        break
        if spec["name"] != "lucene" and n_empty != len(empty):
            raise ShopbenchError(f"Lucene indexed {n_docs - n_empty} products with terms, "
                                 f"the analyzer gave {n_docs - len(empty)}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    version = str(lucene.autoclass("org.apache.lucene.util.Version").LATEST.toString())
    (tmp / "shopbench.json").write_text(json.dumps({
        "num_docs": n_docs, "k1": k1, "b": b, "fields": ["text"], "engine": f"Lucene {version}",
        "analyzer": analyzers.describe(analyzer),
        "empty_products": {"count": int(n_empty), "positions": empty[:5]}}))
    log.info("lucene index: %d products in %.1f s (Lucene %s, %s)", n_docs,
             time.perf_counter() - start, version, analyzers.describe(analyzer))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


class Index:
    """A Lucene index searched with BM25(k1, b) by token queries (shopbench.backends)."""

    def __init__(self, path: str, docids, k1: float, b: float, threads: int = 1,
                 ties: str = "docid"):
        A, jn = lucene.autoclass, lucene.jvm()
        info = json.loads((Path(path) / "shopbench.json").read_text())
        self.docids, self.ties = np.asarray(docids), ties
        self.reader = A("org.apache.lucene.index.DirectoryReader").open(
            _directory(Path(path) / "lucene"))
        self.n_docs = int(self.reader.maxDoc())
        if self.n_docs != len(self.docids) or info["num_docs"] != self.n_docs:
            raise ShopbenchError(f"{path} indexes {self.n_docs} products, the corpus holds "
                                 f"{len(self.docids)}; delete the index and rerun")
        reader = jn.cast("org.apache.lucene.index.IndexReader", self.reader)
        self.executor = None
        if int(threads) > 1:
            self.executor = A("java.util.concurrent.Executors").newFixedThreadPool(int(threads))
            self.searcher = A("org.apache.lucene.search.IndexSearcher")(
                reader, jn.cast("java.util.concurrent.Executor", self.executor))
        else:
            self.searcher = A("org.apache.lucene.search.IndexSearcher")(reader)
        self.searcher.setSimilarity(
            A("org.apache.lucene.search.similarities.BM25Similarity")(float(k1), float(b)))
        self._term = A("org.apache.lucene.index.Term")
        self._tq = A("org.apache.lucene.search.TermQuery")
        self._boost = A("org.apache.lucene.search.BoostQuery")
        self._builder = A("org.apache.lucene.search.BooleanQuery$Builder")
        self._should = A("org.apache.lucene.search.BooleanClause$Occur").SHOULD

    def query(self, tokens: list[str]):
        """The disjunction of the tokens' term queries, each weighted by its count."""
        builder = self._builder()
        for term, count in Counter(tokens).items():
            q = self._tq(self._term(FIELD, term))
            builder.add(q if count == 1 else self._boost(q, float(count)), self._should)
        return builder.build()

    def _hits(self, query, depth: int):
        docs = self.searcher.search(query, depth).scoreDocs
        return (np.fromiter((h.doc for h in docs), dtype=np.int64, count=len(docs)),
                np.fromiter((h.score for h in docs), dtype=np.float64, count=len(docs)))

    def search(self, tokens: list[str], k: int):
        if not tokens:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        query = self.query(tokens)
        depth = min(self.n_docs, k + 8)
        while True:
            pos, scores = self._hits(query, depth)
            if (len(pos) < depth or depth >= self.n_docs or len(pos) <= k
                    or scores[-1] < scores[k - 1]):
                break
            depth = min(self.n_docs, depth * 2)
        order, top = top_k(scores, self.docids[pos], k, self.ties)
        return pos[order], top

    def batch_search(self, queries: list[list[str]], k: int):
        return [self.search(tokens, k) for tokens in queries]

    def score(self, tokens: list[str], positions: np.ndarray) -> np.ndarray:
        """Lucene's BM25 score of each of ``positions`` (0 where it does not match)."""
        out = np.zeros(len(positions), dtype=np.float64)
        if not tokens or not len(positions):
            return out
        pos, scores = self._hits(self.query(tokens), self.n_docs)
        found = dict(zip(pos.tolist(), scores.tolist()))
        return np.array([found.get(int(p), 0.0) for p in positions], dtype=np.float64)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown()
            self.executor = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def load(path: str, docids, *, weights: dict | None = None, ties: str = "docid",
         pad_zero_scores: bool = False, threads: int = 1, mem_mb: int | None = None,
         **settings) -> Index:
    _unsupported(fields=weights, pad_zero_scores=pad_zero_scores, ties=ties)
    lucene.configure(mem_mb)
    info = json.loads((Path(path) / "shopbench.json").read_text())
    return Index(path, docids, info["k1"], info["b"], threads=threads, ties=ties)

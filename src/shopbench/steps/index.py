"""Indexes, once per corpus: a model's FAISS index (flat or HNSW), a BM25 index per analyzer and
settings, shared by every approach and seed that can share it (shopbench.backends)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .. import backends
from ..files import write_text_atomic

log = logging.getLogger("shopbench")

ROWS_PER_PIECE = 50_000


def index(embeddings: str, index_out: str, *, index: str = "flat", **settings) -> None:
    """The dense index of a model's embeddings: backend ``index`` (flat or hnsw)."""
    hnsw = {k: v for k, v in settings.items() if v is not None}
    backends.get(index).build(embeddings, index_out, **hnsw)
    log.info("%s index of %s", index, embeddings)


def text_batches(path: str, column: str, rows: int = ROWS_PER_PIECE):
    """``() -> batches of the texts of one column`` of a parquet file, read a piece at a time."""
    def batches():
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=[column]):
            yield batch.column(0).to_pylist()
    return batches


def bm25_index(corpus: str, index_out: str, *, backend: str, analyzer, k1: float, b: float,
               fields: list[str] | None = None, fields_file: str | None = None) -> None:
    """A BM25 index of the corpus text, or of each product field of ``fields`` (then read from
    the corpus' fields.parquet, ``fields_file``), for one analyzer and k1, b."""
    sources = ({f: text_batches(fields_file, f) for f in fields} if fields
               else {"text": text_batches(corpus, "text")})
    backends.get(backend).build(sources, index_out, analyzer=analyzer, k1=k1, b=b)
    report = products_dropped_letters(sources, analyzer, corpus)
    write_text_atomic(Path(index_out) / DROPPED_LETTERS,
                      json.dumps(report, indent=2, sort_keys=True) + "\n")


#: The file in a BM25 index folder that counts the products whose non-ASCII letters the
#: analyzer drops (shopbench.analyzers.ASCII_ONLY), with examples.
DROPPED_LETTERS = "dropped_letters.json"


def products_dropped_letters(sources: dict, analyzer, corpus: str, examples: int = 5) -> dict:
    """Products (in any indexed field) that lose non-ASCII letters to an ASCII-only analyzer:
    their count and the first ``examples`` (docid, field, text, tokens, letters dropped);
    count 0 for the other analyzers. ASCII texts are not analyzed again."""
    from .. import analyzers

    if not analyzers.drops_letters(analyzer):
        return {"count": 0, "examples": []}
    analyze = analyzers.make(analyzer)
    lost: set[int] = set()
    shown = []
    for field, batches in sources.items():
        pos = 0
        for batch in batches():
            for text in batch:
                if isinstance(text, str) and not text.isascii() and pos not in lost:
                    tokens = analyze(text)
                    letters = analyzers.dropped_letters(text, tokens)
                    if letters:
                        lost.add(pos)
                        if len(shown) < examples:
                            shown.append({"position": pos, "field": field, "text": text[:80],
                                          "tokens": tokens[:12], "dropped": letters})
                pos += 1
    if shown:
        import pyarrow.parquet as pq

        docids = pq.read_table(corpus, columns=["docid"]).column(0)
        for example in shown:
            example["id"] = str(docids[example.pop("position")])
    return {"count": len(lost), "examples": shown}

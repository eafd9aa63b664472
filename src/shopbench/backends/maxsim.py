"""Late-interaction search over a corpus' token vectors (shopbench.late): exact MaxSim over
every product, or a FAISS candidate stage first.

``build`` persists the candidate index: an inverted file (``IVF<nlist>,SQfp16``, inner
product) over every token vector, trained on 64 of them per list. A query then asks it for each
query token's ``token_k`` nearest product tokens (``nprobe`` lists visited); the products
those tokens belong to are the candidates, scored by exact MaxSim from the stored vectors, as
PLAID and ColBERT's end-to-end retrieval do. ``load`` with no index path searches exactly.

Ranking: MaxSim descending, then docid ascending (shopbench.trec.top_k).
"""

from __future__ import annotations

import numpy as np

from .. import late
from ..errors import ShopbenchError
from ..files import atomic_path
from ..trec import top_k

#: Token vectors per inverted list used to train the centroids (FAISS wants 39 to 256).
TRAIN_PER_LIST = 64
#: Exact search holds the token vectors in float32 up to this size (bytes): numpy turns float16
#: into float32 at about 10 ns a value, 5-10x the cost of the MaxSim itself; larger corpora are
#: converted a chunk at a time (and are for search: ivf).
FLOAT32_BYTES = 8 * 1024 ** 3


def auto_nlist(n_tokens: int) -> int:
    """Inverted lists for ``n_tokens`` vectors: about 4 * sqrt(n), at least 1 and at most
    one per 39 vectors (FAISS' minimum training points per centroid)."""
    return int(max(1, min(4 * np.sqrt(max(n_tokens, 1)), n_tokens // 39)))


def build(tokens_file: str, out: str, *, nlist: int | None = None, seed: int = 0,
          chunk: int = 262_144) -> None:
    """The IVF candidate index of a token matrix (.npy, float16), filled in chunks."""
    import faiss

    tokens = np.load(tokens_file, mmap_mode="r")
    if not len(tokens):
        raise ShopbenchError(f"{tokens_file} holds no token vectors")
    nlist = int(nlist or auto_nlist(len(tokens)))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(tokens), min(len(tokens), TRAIN_PER_LIST * nlist),
                                replace=False))
    index = faiss.index_factory(tokens.shape[1], f"IVF{nlist},SQfp16",
                                faiss.METRIC_INNER_PRODUCT)
    index.train(np.ascontiguousarray(tokens[sample], dtype=np.float32))
    for start in range(0, len(tokens), chunk):
        index.add(np.ascontiguousarray(tokens[start:start + chunk], dtype=np.float32))
    with atomic_path(out) as tmp:
        faiss.write_index(index, str(tmp))


class MaxSimIndex:
    """Token vectors of a corpus (memory-mapped) and, optionally, the IVF candidate index."""

    def __init__(self, tokens: np.ndarray, offsets: np.ndarray, docids: np.ndarray,
                 ivf=None, nprobe: int = 32, token_k: int = 64):
        if ivf is None and tokens.dtype != np.float32 and tokens.size * 4 <= FLOAT32_BYTES:
            tokens = np.asarray(tokens, dtype=np.float32)
        self.tokens, self.offsets, self.docids = tokens, offsets, np.asarray(docids)
        self.n_docs = len(offsets) - 1
        if self.n_docs != len(self.docids):
            raise ShopbenchError(f"the token vectors cover {self.n_docs} products, the corpus "
                                 f"{len(self.docids)}; delete them and rerun")
        self.ivf, self.token_k = ivf, int(token_k)
        if ivf is not None:
            if ivf.ntotal != len(tokens):
                raise ShopbenchError(f"the candidate index holds {ivf.ntotal} token vectors, "
                                     f"the corpus {len(tokens)}; delete it and rerun")
            ivf.nprobe = int(nprobe)

    def candidates(self, query: np.ndarray) -> np.ndarray:
        """Sorted positions of the products holding a query token's nearest tokens."""
        _, ids = self.ivf.search(np.ascontiguousarray(query, dtype=np.float32),
                                 min(self.token_k, self.ivf.ntotal))
        ids = ids[ids >= 0]
        return np.unique(np.searchsorted(self.offsets, ids, side="right") - 1)

    def score(self, query: np.ndarray, positions: np.ndarray) -> np.ndarray:
        return late.maxsim(query, self.tokens, self.offsets, positions)

    def search(self, query: np.ndarray, k: int):
        if self.ivf is None:
            scores = late.maxsim(query, self.tokens, self.offsets)
            order, top = top_k(scores, self.docids, k)
            return order, top
        positions = self.candidates(query)
        order, top = top_k(self.score(query, positions), self.docids[positions], k)
        return positions[order], top

    def batch_search(self, queries, k: int):
        return [self.search(q, k) for q in queries]


def load(path: str | None, docids: np.ndarray, *, tokens: str, lengths: str,
         nprobe: int = 32, token_k: int = 64, **settings) -> MaxSimIndex:
    """Exact search (``path`` None) or the IVF candidate stage at ``path``."""
    matrix, offsets = late.read_tokens(tokens, lengths)
    ivf = None
    if path:
        import faiss

        ivf = faiss.read_index(str(path))
    return MaxSimIndex(matrix, offsets, docids, ivf, nprobe, token_k)

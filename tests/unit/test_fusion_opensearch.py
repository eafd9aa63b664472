"""OpenSearch's hybrid search as fusion settings, against values computed by hand from
OpenSearch's definitions (normalization processor: min_max and arithmetic_mean; rrf)."""

from __future__ import annotations

import pytest

from shopbench import fusion
from shopbench.errors import ShopbenchError

# sub-query 1 (e.g. BM25) and sub-query 2 (e.g. a bi-encoder), each in rank order
BM25 = (["a", "b", "c"], [3.0, 2.0, 1.0])
DENSE = (["c", "d"], [0.9, 0.5])


def test_min_max_opensearch_floors_the_lowest_at_0_001():
    assert fusion.normalize([3.0, 2.0, 1.0], "min-max-opensearch") == [1.0, 0.5, 0.001]
    assert fusion.normalize([3.0, 2.0, 1.0], "min-max") == [1.0, 0.5, 0.0]
    assert fusion.normalize([0.7], "min-max-opensearch") == [1.0]  # one result: 1


def test_opensearch_normalization_processor_by_hand():
    # min_max: BM25 a 1, b 0.5, c 0.001; dense c 1, d 0.001. arithmetic_mean with weights
    # 0.3 / 0.7 (sum 1), a missing sub-query score counted as 0:
    # a 0.3, b 0.15, c 0.3 * 0.001 + 0.7 * 1 = 0.7003, d 0.7 * 0.001 = 0.0007
    docids, scores = fusion.fuse_query([BM25, DENSE], "combsum", weights=[0.3, 0.7],
                                       normalization="min-max-opensearch")
    assert docids == ["c", "a", "b", "d"]
    assert scores == pytest.approx([0.7003, 0.3, 0.15, 0.0007], abs=1e-12)


def test_opensearch_floor_changes_a_ranking():
    # with plain min-max, c (last in BM25, missing from dense) ties with e (missing from BM25,
    # last in dense) at 0, ordered by docid; OpenSearch's floor gives each 0.001 * weight
    bm25 = (["a", "c"], [2.0, 1.0])
    dense = (["b", "e"], [0.8, 0.4])
    plain = fusion.fuse_query([bm25, dense], "combsum", weights=[0.4, 0.6])
    opensearch = fusion.fuse_query([bm25, dense], "combsum", weights=[0.4, 0.6],
                                   normalization="min-max-opensearch")
    assert plain[0] == ["b", "a", "c", "e"] and plain[1][2:] == [0.0, 0.0]
    assert opensearch[0] == ["b", "a", "e", "c"]
    assert opensearch[1] == pytest.approx([0.6, 0.4, 0.0006, 0.0004], abs=1e-12)


def test_opensearch_rrf_by_hand():
    # rank_constant 60: sum of 1 / (60 + rank); c: 1/63 + 1/61, a: 1/61, d: 1/62, b: 1/62
    docids, scores = fusion.fuse_query([BM25, DENSE], "rrf", k=60)
    assert docids == ["c", "a", "b", "d"]
    assert scores == pytest.approx([1 / 63 + 1 / 61, 1 / 61, 1 / 62, 1 / 62], abs=1e-15)


def test_unknown_normalization():
    with pytest.raises(ShopbenchError, match="min-max-opensearch"):
        fusion.check("combsum", 2, None, "opensearch")

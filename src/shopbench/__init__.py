"""shopbench: reproducible product-search retrieval experiments on Amazon ESCI.

Modules, one per workflow stage (none of them imports torch at import time):
data (read, validate, sample, qrels), text (product text and corpora), trec (run and qrels
files), bm25, dense, fusion, rerank, models (model resolution and loading), metrics,
stats, report, provenance, config (semantic checks of the experiment config).
"""

__version__ = "0.1.0"

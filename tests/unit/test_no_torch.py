"""Steps that need no model never import torch (it costs seconds per job)."""

import subprocess
import sys

CODE = """
import sys
from shopbench import bm25, config, data, fusion, metrics, provenance, report, stats, steps
from shopbench import summary, text, trec, analyzers, normalize
analyzers.make('english')('running shoes'); analyzers.make('japanese')('抹茶')
normalize.Normalizer({'name': 'n', 'steps': ['unicode', 'spelling', 'plurals', 'stem']},
                     ['ecloth'])('Wireles headphnes')
from shopbench.models import model_fingerprint, resolve_model
resolve_model('sentence-transformers/all-MiniLM-L6-v2')
heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'faiss') if m in sys.modules]
print(','.join(heavy))
"""


def test_model_free_modules_do_not_import_torch():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""

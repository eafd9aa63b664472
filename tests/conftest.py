"""Shared fixtures: tiny random-weight BERT models built on the fly, paths to data.

The tiny models (a sentence-transformers bi-encoder and a CrossEncoder) are deterministic under
a fixed torch seed, load offline, and exercise the same code paths as real checkpoints.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest

#: A skipped test fails the run (see no_skip.py).
pytest_plugins = ["no_skip"]

REPO = Path(__file__).resolve().parents[1]
SLICE = REPO / "data" / "esci-us-150q"
DEMO = REPO / "data" / "demo"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _write_vocab(folder: Path) -> None:
    chars = list(string.ascii_lowercase + string.digits)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + [f"##{c}" for c in chars]
    tokens += [p for p in string.punctuation]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")


def build_tiny_bi_encoder(folder: Path, seed: int = 0, layers: int = 2) -> Path:
    """A random 2-layer BERT with mean pooling, saved as a sentence-transformers folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    raw = folder / "_raw"
    _write_vocab(raw)
    tok = BertTokenizerFast.from_pretrained(str(raw))
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=layers,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)
    BertModel(cfg).save_pretrained(str(raw))
    tok.save_pretrained(str(raw))
    transformer = Transformer(str(raw), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), "mean")
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(folder))
    return folder


def build_tiny_cross_encoder(folder: Path, seed: int = 0) -> Path:
    """A random 2-layer BERT sequence classifier (one label) saved for CrossEncoder."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    _write_vocab(folder)
    tok = BertTokenizerFast.from_pretrained(str(folder))
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=512,
                     num_labels=1, initializer_range=0.2)
    BertForSequenceClassification(cfg).save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Paths of two tiny bi-encoders (different seeds) and one tiny cross-encoder."""
    root = tmp_path_factory.mktemp("models")
    return {
        "bi": build_tiny_bi_encoder(root / "bi"),
        "bi2": build_tiny_bi_encoder(root / "bi2", seed=1),
        "cross": build_tiny_cross_encoder(root / "cross"),
    }


@pytest.fixture(scope="session")
def esci_slice() -> Path:
    """The real ESCI slice committed in data/esci-us-150q (150 US queries)."""
    return SLICE


def pytest_collection_modifyitems(config, items):
    """Everything under tests/workflow/ runs Snakemake on the workflow: marked ``slow``, so
    ``-m "not slow"`` is the quick subset (unit tests and the regression files' checks)."""
    workflow = Path(__file__).resolve().parent / "workflow"
    for item in items:
        if workflow in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def tiny_late_models(tmp_path_factory) -> dict[str, Path]:
    """Tiny late-interaction checkpoints in both formats (tests/late_models.py)."""
    from late_models import build_pylate, build_stanford

    root = tmp_path_factory.mktemp("late_models")
    return {"pylate": build_pylate(root / "pylate"), "stanford": build_stanford(root / "stanford")}

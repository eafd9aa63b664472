"""The benchmarks' stand-in tokenizer (used where the MiniLM package is absent, as on the GPU
machine) really splits synthetic product text, rather than mapping it all to [UNK]."""

import sys
from pathlib import Path

from transformers import AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import random_models  # noqa: E402
import synth  # noqa: E402


def test_syllable_tokenizer_covers_synthetic_text(tmp_path):
    random_models.write_tokenizer(tmp_path, installed=False)
    tokenizer = AutoTokenizer.from_pretrained(str(tmp_path))
    assert len(tokenizer) > 1000
    ids = [i for text in synth.product_texts(50) for i in tokenizer(text)["input_ids"]]
    unknown = sum(i == tokenizer.unk_token_id for i in ids)
    assert len(ids) > 50 * 100 and unknown / len(ids) < 0.01, (len(ids), unknown)

"""Tiny late-interaction checkpoints, built in the tests, in the two formats users have:

* PyLate (what ``pylate`` 1.x saves, e.g. lightonai/GTE-ModernColBERT-v1): a
  sentence-transformers folder whose config_sentence_transformers.json says model_type ColBERT
  with ``[Q] ``/``[D] `` prefixes (added tokens), query and document lengths and a punctuation
  skiplist; a Transformer at the root and PyLate's Dense projection in 1_Dense.
* Stanford ColBERT (colbert-ir/colbertv2.0, answerdotai/answerai-colbert-small-v1): a BERT
  whose config.json says ``HF_ColBERT``, weights under ``bert.*`` plus the projection
  ``linear.weight``, and ``artifact.metadata`` (``[unused0]``/``[unused1]`` markers, query and
  document lengths, mask_punctuation).

Random weights (fixed seeds); a 2-layer BERT of width 32 projected to 16 dimensions.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

from conftest import _write_vocab


def _bert(folder: Path, seed: int, markers=(), added=()):
    import torch
    from transformers import BertConfig, BertTokenizerFast

    _write_vocab(folder)
    if markers:  # in-vocabulary markers, as BERT's [unusedN]
        vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
        (folder / "vocab.txt").write_text("\n".join(vocab[:1] + list(markers) + vocab[1:])
                                          + "\n", encoding="utf-8")
    tok = BertTokenizerFast.from_pretrained(str(folder))
    if added:
        tok.add_tokens(list(added))
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)
    return tok, cfg


def build_pylate(folder: Path, seed: int = 0, document_length: int = 180) -> Path:
    import torch
    from safetensors.torch import save_file
    from transformers import BertModel

    tok, cfg = _bert(folder, seed, added=("[Q] ", "[D] "))
    BertModel(cfg).save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": document_length - 1, "do_lower_case": False}))
    dense = folder / "1_Dense"
    dense.mkdir()
    (dense / "config.json").write_text(json.dumps({
        "in_features": 32, "out_features": 16, "bias": False,
        "activation_function": "torch.nn.modules.linear.Identity"}))
    save_file({"linear.weight": torch.randn(16, 32)}, str(dense / "model.safetensors"))
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Dense", "type": "pylate.models.Dense.Dense"}]))
    (folder / "config_sentence_transformers.json").write_text(json.dumps({
        "model_type": "ColBERT", "prompts": {"query": "", "document": ""},
        "default_prompt_name": None, "similarity_fn_name": "MaxSim",
        "query_prefix": "[Q] ", "document_prefix": "[D] ", "query_length": 32,
        "document_length": document_length, "attend_to_expansion_tokens": False,
        "skiplist_words": list(string.punctuation), "do_query_expansion": True}))
    return folder


def build_stanford(folder: Path, seed: int = 0, doc_maxlen: int = 180,
                   query_maxlen: int = 32) -> Path:
    import torch
    from safetensors.torch import save_file
    from transformers import BertModel

    tok, cfg = _bert(folder, seed, markers=("[unused0]", "[unused1]"))
    cfg.architectures = ["HF_ColBERT"]
    weights = {f"bert.{k}": v.contiguous() for k, v in BertModel(cfg).state_dict().items()}
    weights["linear.weight"] = torch.randn(16, 32)
    save_file(weights, str(folder / "model.safetensors"))
    cfg.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    (folder / "artifact.metadata").write_text(json.dumps({
        "query_token_id": "[unused0]", "doc_token_id": "[unused1]", "query_maxlen": query_maxlen,
        "doc_maxlen": doc_maxlen, "mask_punctuation": True, "attend_to_mask_tokens": False}))
    return folder

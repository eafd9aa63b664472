"""Encode 1M synthetic products on one GPU (fp16) and rerank pairs: products/s and pairs/s.

One self-contained run for an NVIDIA H100 or H200, no Hugging Face hub: it builds random-weight
models of the notebook's shapes (``random_models.py``: MiniLM 6x384 at 256 tokens, e5-small
12x384 at 512, ms-marco cross-encoder 6x384 at 512) and the synthetic catalogue
(``synth.py``), then measures

1. cross-encoder pairs/s on ``--pairs`` (query, product) pairs through a pipelined encoder:
   tokenization of the next chunk runs in a background thread (the Rust tokenizer releases
   the GIL) while the GPU works on the current one, in length-sorted batches (little padding),
   fp16, results kept on the GPU until the end;
2. the 1M-product encode with the MiniLM shape through the same pipeline;
3. on a subset (``--subset``), the pipeline against plain ``SentenceTransformer.encode`` (what
   ``shopbench.dense.encode`` calls) for the MiniLM and e5-small shapes, and against plain
   ``CrossEncoder.predict``, checking that the outputs agree.

Within ``--budget-s`` (default 480 s, so the whole run stays well within 10 minutes): the 1M
encode is cut to what fits (and says so), later stages are skipped when time is short. Prints a
table and writes ``benchmarks/out/gpu.json``.

    python benchmarks/gpu_encode.py                          # on the GPU machine
    python benchmarks/gpu_encode.py --device cpu --products 2000 --subset 300 --pairs 300
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

os.environ["TOKENIZERS_PARALLELISM"] = "true"  # before common, which turns it off for CPU runs
import common  # noqa: E402
import random_models  # noqa: E402
import synth  # noqa: E402


def chunks(n: int, size: int):
    for start in range(0, n, size):
        yield start, min(n, start + size)


def tokenized_chunks(tokenizer, texts, pairs_with, max_length: int, chunk: int):
    """Yield (start, stop, input_ids, attention_mask, token_type_ids) per chunk, tokenized in
    a background thread one chunk ahead."""
    out: queue.Queue = queue.Queue(maxsize=2)

    def work():
        for start, stop in chunks(len(texts), chunk):
            args = ([pairs_with[start:stop], texts[start:stop]] if pairs_with is not None
                    else [texts[start:stop]])
            enc = tokenizer(*args, truncation="only_second" if pairs_with is not None else True,
                            max_length=max_length, padding=True, return_tensors="np")
            out.put((start, stop, enc["input_ids"], enc["attention_mask"],
                     enc.get("token_type_ids")))
        out.put(None)

    threading.Thread(target=work, daemon=True).start()
    while (item := out.get()) is not None:
        yield item


def pipelined(model, tokenizer, texts, max_length: int, batch_size: int, device: str,
              pairs_with=None, chunk: int = 16384) -> np.ndarray:
    """Mean-pooled unit embeddings (bi-encoder) or logits (cross-encoder) for every input."""
    import torch

    outputs = [None] * ((len(texts) + chunk - 1) // chunk)
    with torch.inference_mode():
        for start, stop, ids, mask, types in tokenized_chunks(tokenizer, texts, pairs_with,
                                                              max_length, chunk):
            lengths = mask.sum(1)
            order = np.argsort(-lengths, kind="stable")
            parts = []
            for b0, b1 in chunks(len(order), batch_size):
                rows = order[b0:b1]
                width = int(lengths[rows].max())
                feats = {"input_ids": ids[rows, :width], "attention_mask": mask[rows, :width]}
                if types is not None:
                    feats["token_type_ids"] = types[rows, :width]
                feats = {k: torch.from_numpy(np.ascontiguousarray(v)).to(device, non_blocking=True)
                         for k, v in feats.items()}
                out = model(**feats)
                if pairs_with is not None:
                    parts.append(out.logits[:, 0])
                else:
                    m = feats["attention_mask"].unsqueeze(-1).to(out.last_hidden_state.dtype)
                    pooled = (out.last_hidden_state * m).sum(1) / m.sum(1).clamp(min=1)
                    parts.append(torch.nn.functional.normalize(pooled.float(), dim=-1).half())
            joined = torch.cat(parts)
            inverse = torch.from_numpy(np.argsort(order)).to(joined.device)
            outputs[start // chunk] = joined[inverse]
        result = torch.cat(outputs).float().cpu().numpy()
    return result


def load_hf(folder: Path, kind: str, device: str):
    """The raw transformers model and tokenizer of a random_models folder, fp16 on GPU."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification, BertModel

    hf = folder / "_hf" if kind == "bi-encoder" else folder
    cls = BertModel if kind == "bi-encoder" else BertForSequenceClassification
    model = cls.from_pretrained(str(hf)).to(device).eval()
    if device == "cuda":
        model = model.half()
    return model, AutoTokenizer.from_pretrained(str(hf))


def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def rate(fn, n: int, device: str) -> tuple[float, float, object]:
    """Items/s, seconds and result of one call."""
    sync(device)
    start = time.perf_counter()
    result = fn()
    sync(device)
    seconds = time.perf_counter() - start
    return n / seconds, seconds, result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--subset", type=int, default=20_000,
                        help="products (and pairs) per comparison with sentence-transformers")
    parser.add_argument("--pairs", type=int, default=50_000, help="cross-encoder pairs")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--budget-s", type=float, default=480.0,
                        help="start no new stage after this many seconds")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU visible; use --device cpu for a smoke test")
    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    work = Path(tempfile.mkdtemp(prefix="shopbench-gpu-"))
    folders = {s: random_models.build(work / s, s) for s in random_models.SHAPES}
    gen_s, products = common.timed(synth.catalogue, args.products)
    texts = synth.texts_of(products)
    queries = synth.queries(products, max(1, args.pairs // 50))["query"].tolist()
    del products
    print(f"{gpu}: {len(texts):,} products generated in {gen_s:.0f} s; models built", flush=True)
    rows, res = [], {"device": gpu, "products": len(texts), "batch_size": args.batch_size,
                     "generate_s": gen_s, "torch": torch.__version__}

    def left() -> float:
        return args.budget_s - (time.perf_counter() - t0)

    def record(what, shape, n, r, s):
        rows.append({"what": what, "model shape": shape, "n": n, "per s": r, "seconds": s})
        print(f"  {what} [{shape}]: {n:,} in {s:.1f} s = {r:,.0f}/s", flush=True)

    from sentence_transformers import CrossEncoder, SentenceTransformer

    # 1. Cross-encoder pairs/s, pipelined (query i // 50 against product i: 50 per query).
    n_pairs = min(args.pairs, len(texts))
    pair_q = [queries[i // 50 % len(queries)] for i in range(n_pairs)]
    pair_d = texts[:n_pairs]
    spec = random_models.SHAPES["ms-marco"]
    ce_model, ce_tok = load_hf(folders["ms-marco"], "cross-encoder", args.device)
    pipelined(ce_model, ce_tok, pair_d[:256], spec["max_length"], args.batch_size, args.device,
              pairs_with=pair_q[:256])
    r, s, logits = rate(lambda: pipelined(ce_model, ce_tok, pair_d, spec["max_length"],
                                          args.batch_size, args.device, pairs_with=pair_q),
                        n_pairs, args.device)
    record("rerank pairs, pipelined", "ms-marco 6x384, 512 tok", n_pairs, r, s)
    del ce_model

    # 2. The whole catalogue, MiniLM shape, pipelined: as many products as the budget allows
    #    (all of them on an H100/H200); the comparisons get what is left.
    spec = random_models.SHAPES["minilm"]
    model, tok = load_hf(folders["minilm"], "bi-encoder", args.device)
    probe = texts[: min(len(texts), 16384)]
    pipelined(model, tok, probe[:512], spec["max_length"], args.batch_size, args.device)
    r, s, _ = rate(lambda: pipelined(model, tok, probe, spec["max_length"], args.batch_size,
                                     args.device), len(probe), args.device)
    n_all = min(len(texts), int(r * max(30.0, left() - 20)))
    if n_all < len(texts):
        print(f"  at {r:,.0f}/s only {n_all:,} of {len(texts):,} products fit the budget",
              flush=True)
    r, s, emb = rate(lambda: pipelined(model, tok, texts[:n_all], spec["max_length"],
                                       args.batch_size, args.device), n_all, args.device)
    record("encode all products, pipelined", "minilm 6x384, 256 tok", n_all, r, s)
    res["embeddings_finite"] = bool(np.isfinite(emb).all())
    del emb, model

    # 3. Pipelined vs plain sentence-transformers on a subset, while the budget lasts.
    subset = texts[: args.subset]
    for shape in ("minilm", "e5-small"):
        if left() < 20:
            print(f"  budget spent: skipping the {shape} comparison", flush=True)
            continue
        spec = random_models.SHAPES[shape]
        model, tok = load_hf(folders[shape], "bi-encoder", args.device)
        r, s, fast = rate(lambda: pipelined(model, tok, subset, spec["max_length"],
                                            args.batch_size, args.device), len(subset),
                          args.device)
        record("encode subset, pipelined", f"{shape}, {spec['max_length']} tok", len(subset), r, s)
        st = SentenceTransformer(str(folders[shape]), device=args.device)
        st.max_seq_length = spec["max_length"]
        if args.device == "cuda":
            st.half()
        r, s, plain = rate(lambda: st.encode(subset, batch_size=args.batch_size,
                                             normalize_embeddings=True, convert_to_numpy=True),
                           len(subset), args.device)
        record("encode subset, SentenceTransformer.encode", f"{shape}, {spec['max_length']} tok",
               len(subset), r, s)
        res[f"{shape}_max_abs_diff_vs_sentence_transformers"] = float(np.abs(fast - plain).max())
        del st, model
    if left() >= 20:
        spec = random_models.SHAPES["ms-marco"]
        ce = CrossEncoder(str(folders["ms-marco"]), device=args.device,
                          max_length=spec["max_length"])
        if args.device == "cuda":
            ce.model.half()
        few = min(n_pairs, args.subset)
        r, s, plain = rate(lambda: ce.predict(list(zip(pair_q[:few], pair_d[:few])),
                                              batch_size=args.batch_size,
                                              show_progress_bar=False), few, args.device)
        record("rerank pairs, CrossEncoder.predict", "ms-marco 6x384, 512 tok", few, r, s)
        # predict applies a sigmoid to one-label models
        res["ms-marco_max_abs_diff_vs_cross_encoder"] = float(
            np.abs(1 / (1 + np.exp(-logits[:few])) - np.asarray(plain)).max())
    res["results"] = rows
    res["total_s"] = time.perf_counter() - t0
    print(common.table(rows))
    print(f"\ntotal {res['total_s']:.0f} s")
    common.save("gpu", res)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

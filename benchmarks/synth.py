"""Deterministic synthetic catalogue in the ESCI file format, for benchmarks at any scale.

Writes ``shopping_queries_dataset_products.parquet`` and
``shopping_queries_dataset_examples.parquet`` with the official column names, order and dtypes
(those of amazon-science/esci-data), so that shopbench reads them like the real files. The text
is made of pseudo-words drawn from a Zipf distribution (no real text), sized like the real US
catalogue: each product's text (title, brand, bullet points, description joined, as the workflow
builds it) is 400-2,200 characters long, median about 1,000. Descriptions are missing for about
half the products, bullet points for 5%, colours for 20% and brands for 2%, as in ESCI US.

Each query names a few words of one product's title (that product is its E judgment) and has a
handful of other judged products (S, C, I), so the files also run through the whole workflow.

The output depends only on ``--products``, ``--queries`` and ``--seed`` (``numpy`` generator
streams, fixed parquet writer settings). Usage::

    python benchmarks/synth.py --products 100000                # benchmarks/out/synth-100k/
    python benchmarks/synth.py --products 1000000 --out DIR

Benchmarks import :func:`product_texts` and :func:`queries` to build data in memory instead.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

OUT_ROOT = Path(__file__).resolve().parent / "out"
PRODUCTS_FILE = "shopping_queries_dataset_products.parquet"
EXAMPLES_FILE = "shopping_queries_dataset_examples.parquet"
TEXT_FIELDS = ["product_title", "product_brand", "product_bullet_point", "product_description"]

MIN_CHARS, MAX_CHARS = 400, 2200
VOCAB_SIZE = 40_000
N_BRANDS = 5_000
NULL_RATES = {"product_description": 0.50, "product_bullet_point": 0.05,
              "product_color": 0.20, "product_brand": 0.02}
COLORS = ("Black", "White", "Silver", "Grey", "Blue", "Navy", "Red", "Green", "Pink", "Beige",
          "Brown", "Gold", "Clear", "Multicolor", "Purple", "Yellow", "Orange", "Ivory")
LABEL_SHARES = {"S": 0.45, "C": 0.10, "I": 0.45}  # of the non-exact judgments
JUDGED_PER_QUERY = (4, 16)  # non-exact judgments per query, inclusive
ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))

SYLLABLES = [c + v for c in ("b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s",
                             "t", "v", "w", "z", "ch", "sh", "st", "tr", "br", "pl", "gr")
             for v in ("a", "e", "i", "o", "u", "ai", "ou", "er", "an", "in", "on", "el")]


def size_label(n: int) -> str:
    """``10k``, ``100k``, ``1M`` style label of a product count."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def vocabulary(rng: np.random.Generator, size: int = VOCAB_SIZE) -> np.ndarray:
    """``size`` distinct pseudo-words of 1-4 syllables, in Zipf rank order."""
    words: dict[str, None] = {}
    syl = np.array(SYLLABLES)
    while len(words) < size:
        n = rng.integers(1, 5, size=size)
        parts = rng.integers(0, len(syl), size=(size, 4))
        for k, row in zip(n, parts):
            words.setdefault("".join(syl[row[:k]]), None)
    return np.array(list(words)[:size], dtype=object)


def zipf_ids(rng: np.random.Generator, n: int, vocab_size: int, s: float = 1.05) -> np.ndarray:
    """``n`` word ranks drawn with probability proportional to ``1 / (rank + 3) ** s``."""
    p = 1.0 / (np.arange(vocab_size) + 3.0) ** s
    cdf = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(n)), vocab_size - 1)


def sentence_pool(rng: np.random.Generator, vocab: np.ndarray, n: int) -> list[str]:
    """``n`` sentences of 6-20 Zipf-drawn words, some with a number and unit."""
    lengths = rng.integers(6, 21, size=n)
    ids = zipf_ids(rng, int(lengths.sum()), len(vocab))
    numbers = rng.integers(1, 500, size=n)
    units = np.array(["inch", "oz", "lb", "pack", "mm", "ft", "ml", "pcs", "count", "watt"])
    unit = units[rng.integers(0, len(units), size=n)]
    with_number = rng.random(n) < 0.3
    out, start = [], 0
    for i, length in enumerate(lengths):
        words = vocab[ids[start:start + length]]
        start += length
        sentence = " ".join(words).capitalize()
        if with_number[i]:
            sentence += f" {numbers[i]} {unit[i]}"
        out.append(sentence + ".")
    return out


def product_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct ASIN-like ids (``B0`` + 8 base-36 characters)."""
    codes = np.empty(0, dtype=np.int64)
    while len(codes) < n:
        draw = np.concatenate([codes, rng.integers(0, 36 ** 8, size=n + n // 10 + 10)])
        _, first = np.unique(draw, return_index=True)
        codes = draw[np.sort(first)]
    codes = codes[:n]
    digits = np.empty((n, 8), dtype="<U1")
    for pos in range(7, -1, -1):
        digits[:, pos] = ALPHABET[codes % 36]
        codes //= 36
    return np.array(["B0" + "".join(row) for row in digits], dtype=object)


def _fill(pool: list[str], picks: np.ndarray, ptr: int, budget: int, sep: str):
    """Join pool sentences from ``picks[ptr:]`` up to ``budget`` characters (cut at a space)."""
    parts, used = [], 0
    while used < budget:
        sentence = pool[picks[ptr % len(picks)]]
        ptr += 1
        parts.append(sentence)
        used += len(sentence) + len(sep)
    text = sep.join(parts)[:budget]
    if len(text) == budget and " " in text:
        text = text[:text.rfind(" ")]
    return text.rstrip(), ptr


def catalogue(n_products: int, seed: int = 0) -> pd.DataFrame:
    """The products table: official columns, ``n_products`` rows, locale ``us``."""
    rng = np.random.default_rng([seed, n_products])
    vocab = vocabulary(rng)
    pool = sentence_pool(rng, vocab, max(20_000, min(n_products // 4, 400_000)))
    brands = np.array([" ".join(vocab[zipf_ids(rng, int(k), 4000)]).title()
                       for k in rng.integers(1, 3, size=N_BRANDS)], dtype=object)
    ids = product_ids(rng, n_products)
    # Text length target: 400-2,200 characters, median about 1,000, like ESCI US
    # (each field's text is cut at a word boundary, losing up to ~15 characters).
    low = MIN_CHARS + 40
    target = low + (MAX_CHARS - low) * rng.beta(1.3, 2.0, n_products)
    target = target.astype(np.int64)
    title_len = rng.integers(3, 11, size=n_products)
    title_words = vocab[zipf_ids(rng, int(title_len.sum()), len(vocab), s=0.9)]
    models = [f"{a}{b}-{n}" for a, b, n in zip(
        ALPHABET[rng.integers(10, 36, n_products)], ALPHABET[rng.integers(10, 36, n_products)],
        rng.integers(10, 9999, n_products))]
    brand = brands[zipf_ids(rng, n_products, N_BRANDS, s=0.8)]
    color = np.array(COLORS, dtype=object)[rng.integers(0, len(COLORS), n_products)]
    null = {col: rng.random(n_products) < rate for col, rate in NULL_RATES.items()}
    null["product_bullet_point"] &= ~null["product_description"]  # never both missing
    bullet_share = rng.uniform(0.3, 0.7, n_products)
    picks = rng.integers(0, len(pool), size=n_products * 24)
    titles, bullets, descriptions, ptr, start = [], [], [], 0, 0
    for i in range(n_products):
        words = title_words[start:start + title_len[i]]
        start += title_len[i]
        title = " ".join(words).title() + " " + models[i]
        titles.append(title)
        budget = target[i] - len(title) - 1
        if not null["product_brand"][i]:
            budget -= len(brand[i]) + 1
        if null["product_description"][i]:
            split = (budget, 0)
        elif null["product_bullet_point"][i]:
            split = (0, budget)
        else:
            first = int(budget * bullet_share[i])
            split = (first, budget - first - 1)
        bullet, ptr = _fill(pool, picks, ptr, split[0], "\n") if split[0] else (None, ptr)
        desc, ptr = _fill(pool, picks, ptr, split[1], " ") if split[1] else (None, ptr)
        bullets.append(bullet)
        descriptions.append(desc)
    frame = pd.DataFrame({
        "product_id": ids,
        "product_title": titles,
        "product_description": descriptions,
        "product_bullet_point": bullets,
        "product_brand": np.where(null["product_brand"], None, brand),
        "product_color": np.where(null["product_color"], None, color),
        "product_locale": "us",
    })
    return frame


def texts_of(products: pd.DataFrame) -> list[str]:
    """The workflow's product text (title, brand, bullet points, description) per product."""
    fields = [products[f].fillna("").astype(str) for f in TEXT_FIELDS]
    joined = fields[0].str.cat(fields[1:], sep=" ")
    return joined.str.replace(r"\s+", " ", regex=True).str.strip().tolist()


def product_texts(n_products: int, seed: int = 0) -> list[str]:
    """:func:`texts_of` the catalogue of ``n_products``."""
    return texts_of(catalogue(n_products, seed))


def queries(products: pd.DataFrame, n_queries: int, seed: int = 0) -> pd.DataFrame:
    """The examples table: ``n_queries`` queries, each with one E product and 4-16 others."""
    rng = np.random.default_rng([seed, len(products), n_queries, 1])
    n = len(products)
    targets = rng.choice(n, size=min(n_queries, n), replace=False)
    titles = products["product_title"].to_numpy()
    brands = products["product_brand"].to_numpy()
    rows = []
    labels = np.array(list(LABEL_SHARES))
    shares = np.array(list(LABEL_SHARES.values()))
    for qid, t in enumerate(targets):
        words = titles[t].lower().split()[:-1]  # drop the model code
        k = int(rng.integers(1, min(3, len(words)) + 1))
        first = int(rng.integers(0, len(words) - k + 1))
        text = " ".join(words[first:first + k])
        if not pd.isna(brands[t]) and rng.random() < 0.4:
            text = f"{brands[t].lower()} {text}"
        rows.append((text, qid, t, "E"))
        others = rng.choice(n, size=int(rng.integers(*JUDGED_PER_QUERY, endpoint=True)),
                            replace=False)
        for o, label in zip(others[others != t], rng.choice(labels, size=len(others), p=shares)):
            rows.append((text, qid, o, label))
    frame = pd.DataFrame(rows, columns=["query", "query_id", "row", "esci_label"])
    frame.insert(0, "example_id", np.arange(len(frame), dtype=np.int64))
    frame.insert(3, "product_id", products["product_id"].to_numpy()[frame.pop("row")])
    frame.insert(4, "product_locale", "us")
    per_query = frame["query_id"].to_numpy()
    small = rng.random(len(targets)) < 0.4
    test = rng.random(len(targets)) < 0.3
    frame["small_version"] = small[per_query].astype(np.int64)
    frame["large_version"] = np.int64(1)
    frame["split"] = np.where(test[per_query], "test", "train")
    return frame


def schemas():
    """pyarrow schemas (products, examples): the official column order and types."""
    import pyarrow as pa

    text = pa.large_string()
    products = pa.schema([(c, text) for c in (
        "product_id", "product_title", "product_description", "product_bullet_point",
        "product_brand", "product_color", "product_locale")])
    examples = pa.schema([
        ("example_id", pa.int64()), ("query", text), ("query_id", pa.int64()),
        ("product_id", text), ("product_locale", text), ("esci_label", text),
        ("small_version", pa.int64()), ("large_version", pa.int64()), ("split", text),
    ])
    return products, examples


def write(products: pd.DataFrame, examples: pd.DataFrame, out: Path) -> None:
    """Both parquet files with the official schemas and fixed writer settings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    products_schema, examples_schema = schemas()
    for frame, schema, name in ((products, products_schema, PRODUCTS_FILE),
                                (examples, examples_schema, EXAMPLES_FILE)):
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        pq.write_table(table, out / name, compression="zstd", row_group_size=100_000)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000,
                        help="number of products (e.g. 10000, 100000, 1000000)")
    parser.add_argument("--queries", type=int, default=None,
                        help="number of queries (default: products / 100, at least 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default benchmarks/out/synth-<size>)")
    args = parser.parse_args(argv)
    n_queries = args.queries or max(100, args.products // 100)
    out = args.out or OUT_ROOT / f"synth-{size_label(args.products)}"
    start = time.perf_counter()
    products = catalogue(args.products, args.seed)
    examples = queries(products, n_queries, args.seed)
    write(products, examples, out)
    lengths = products[TEXT_FIELDS].fillna("").astype(str).agg(" ".join, axis=1).str.len()
    print(f"{out}: {len(products):,} products (text {lengths.min()}-{lengths.max()} chars, "
          f"median {int(lengths.median())}), {n_queries:,} queries, {len(examples):,} "
          f"judgments in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

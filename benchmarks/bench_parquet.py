"""Parquet engines: reading the slice's products file with pandas' pyarrow and fastparquet
engines (wall and CPU time, column dtypes, warnings), and a fastparquet-written copy with
pyarrow, as shopbench reads it. Needs fastparquet (the test extra).

Usage: python benchmarks/bench_parquet.py [--copies 10] [--repeats 15]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

from common import REPO, median, save, table

PRODUCTS = REPO / "data" / "esci-us-150q" / "shopping_queries_dataset_products.parquet"


def read(path: Path, engine: str) -> tuple[float, float, pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wall, cpu = time.perf_counter(), time.process_time()
        frame = pd.read_parquet(path, engine=engine)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, frame, sorted({f"{type(w.message).__name__}: {w.message}"[:100]
                                     for w in caught})


def main() -> None:
    import fastparquet

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=10, help="also a file of N copies")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    src = pd.read_parquet(PRODUCTS)
    sizes = {"slice": src}
    if args.copies > 1:
        sizes[f"slice x{args.copies}"] = pd.concat(
            [src.assign(product_id=src["product_id"] + f"-{i}") for i in range(args.copies)],
            ignore_index=True)
    rows, result = [], {"pandas": pd.__version__, "fastparquet": fastparquet.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in sizes.items():
            by_pyarrow, by_fastparquet = Path(tmp) / "pa.parquet", Path(tmp) / "fp.parquet"
            frame.to_parquet(by_pyarrow, engine="pyarrow", index=False)
            fastparquet.write(str(by_fastparquet), frame, write_index=False)
            cases = {"pyarrow file, pyarrow engine": (by_pyarrow, "pyarrow"),
                     "pyarrow file, fastparquet engine": (by_pyarrow, "fastparquet"),
                     "fastparquet file, pyarrow engine": (by_fastparquet, "pyarrow")}
            walls = {c: [] for c in cases}
            cpus = {c: [] for c in cases}
            seen = {}
            for _ in range(args.repeats):  # interleaved: drifts hit every case alike
                for case, (path, engine) in cases.items():
                    wall, cpu, out, warned = read(path, engine)
                    walls[case].append(wall)
                    cpus[case].append(cpu)
                    seen[case] = (sorted({str(d) for d in out.dtypes}), warned)
            for case in cases:
                rows.append({"file": name, "rows": len(frame), "case": case,
                             "wall_ms": median(walls[case]) * 1000,
                             "cpu_ms": median(cpus[case]) * 1000,
                             "dtypes": ", ".join(seen[case][0]),
                             "warnings": "; ".join(seen[case][1]) or "-"})
            result[name] = {"bytes": {"pyarrow": by_pyarrow.stat().st_size,
                                      "fastparquet": by_fastparquet.stat().st_size},
                            "wall_s": walls, "cpu_s": cpus}
    print(table(rows))
    save("parquet", {**result, "rows": rows})


if __name__ == "__main__":
    main()

"""Record an experiment's expected metrics: ``tests/regressions/<name>.tsv`` from a results folder.

    python tests/regressions/record.py results/quickstart [--tolerance 0] [--out FILE]

reads ``RESULTS_DIR/metrics.csv`` (one row per approach and seed) and writes one row per
approach, seed and metric (the point metrics and ``n_queries``; not the bootstrap bounds, see
README.md), each value exactly as metrics.csv wrote it, with the given tolerance. The file is
named after the results folder, which the workflow names after the config's ``name``.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The columns of a regression file, in order.
COLUMNS = ["approach", "seed", "metric", "expected", "tolerance"]
#: metrics.csv columns that are not point metrics: bootstrap bounds end in these.
CI_SUFFIXES = ("_ci_low", "_ci_high")


class RegressionFileError(ValueError):
    """A regression file (or a metrics.csv to record one from) is malformed."""


def point_metrics(header: list[str]) -> list[str]:
    """The columns of a metrics.csv header that a regression file keeps, in order."""
    if header[:2] != ["approach", "seed"]:
        raise RegressionFileError(f"metrics.csv must start with columns approach,seed; got "
                                  f"{','.join(header[:2])}")
    return [c for c in header[2:] if not c.endswith(CI_SUFFIXES)]


def read_metrics(path: Path) -> dict[tuple[str, str, str], str]:
    """(approach, seed, metric) -> the value as metrics.csv wrote it, point metrics only."""
    path = Path(path)
    if not path.is_file():
        raise RegressionFileError(f"{path}: no such file (a finished run's results folder "
                                  f"holds metrics.csv)")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise RegressionFileError(f"{path}: empty file")
        keep = point_metrics(header)
        out: dict[tuple[str, str, str], str] = {}
        for row in reader:
            if len(row) != len(header):
                raise RegressionFileError(f"{path}: a row has {len(row)} fields, the header "
                                          f"{len(header)}: {','.join(row)}")
            values = dict(zip(header, row))
            for metric in keep:
                out[(values["approach"], values["seed"], metric)] = values[metric]
    if not out:
        raise RegressionFileError(f"{path}: no rows")
    return out


def write_expected(metrics: dict[tuple[str, str, str], str], path: Path,
                   tolerance: float = 0.0) -> None:
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise RegressionFileError(f"tolerance must be a finite number >= 0, not {tolerance}")
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        for (approach, seed, metric), value in metrics.items():
            writer.writerow([approach, seed, metric, value, f"{tolerance:g}"])


def read_expected(path: Path) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(approach, seed, metric) -> (expected, tolerance) of a regression file, checked."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows or rows[0] != COLUMNS:
        raise RegressionFileError(f"{path.name}: the header must be {' '.join(COLUMNS)} "
                                  f"(tab-separated)")
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            raise RegressionFileError(f"{path.name} line {line}: {len(row)} fields, expected "
                                      f"{len(COLUMNS)}")
        approach, seed, metric, expected, tolerance = row
        if not (approach and seed.isdigit() and metric):
            raise RegressionFileError(f"{path.name} line {line}: approach and metric must be "
                                      f"set and seed an integer, got {approach!r} {seed!r} "
                                      f"{metric!r}")
        try:
            value, tol = float(expected), float(tolerance)
        except ValueError:
            raise RegressionFileError(f"{path.name} line {line}: expected and tolerance must "
                                      f"be numbers, got {expected!r} {tolerance!r}") from None
        if not (math.isfinite(value) and math.isfinite(tol) and tol >= 0):
            raise RegressionFileError(f"{path.name} line {line}: expected must be finite and "
                                      f"tolerance finite and >= 0, got {expected} {tolerance}")
        key = (approach, seed, metric)
        if key in out:
            raise RegressionFileError(f"{path.name} line {line}: {' '.join(key)} listed twice")
        out[key] = (value, tol)
    if not out:
        raise RegressionFileError(f"{path.name}: no rows")
    return out


def compare(expected: dict[tuple[str, str, str], tuple[float, float]],
            actual: dict[tuple[str, str, str], str]) -> list[str]:
    """Differences between a regression file and a run's metrics, one readable line each
    (empty when the run reproduces the file)."""
    problems = [f"missing from the run: {' '.join(k)} (expected {expected[k][0]:g})"
                for k in expected if k not in actual]
    problems += [f"not in the regression file: {' '.join(k)} = {actual[k]}"
                 for k in actual if k not in expected]
    for key, (value, tol) in expected.items():
        if key not in actual:
            continue
        try:
            got = float(actual[key])
        except ValueError:
            problems.append(f"{' '.join(key)}: expected {value:.6f}, got {actual[key]!r}, "
                            f"not a number")
            continue
        if not abs(got - value) <= tol:
            problems.append(f"{' '.join(key)}: expected {value:.6f}, got {got:.6f} "
                            f"(diff {got - value:+.6f}, tolerance {tol:g})")
    return problems


def default_path(results_dir: Path) -> Path:
    """tests/regressions/<name>.tsv for results/<name>."""
    return HERE / f"{Path(results_dir).resolve().name}.tsv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dir", type=Path, help="results/<name> of a finished run")
    parser.add_argument("--tolerance", type=float, default=0.0,
                        help="allowed absolute difference of every value (default 0: exact)")
    parser.add_argument("--out", type=Path, default=None,
                        help="file to write (default tests/regressions/<name>.tsv)")
    args = parser.parse_args(argv)
    out = args.out or default_path(args.results_dir)
    try:
        metrics = read_metrics(args.results_dir / "metrics.csv")
        write_expected(metrics, out, args.tolerance)
    except RegressionFileError as err:
        print(f"record.py: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}: {len(metrics)} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())

# Scaling out: helpers for sharded encoding and reranking (the merge rules are in shards.smk),
# and the resources that depend on the config. With shards: 1, encode_products and rerank write their
# final outputs themselves. Cluster sizing (memory, runtime, partition, account) lives in
# profiles/slurm/config.yaml.
import os

SHARDS = config["shards"]
# A GPU per model job when the config asks for one (the SLURM plugin maps `gpu` to --gpus).
GPUS = 1 if config["device"] == "cuda" else 0
# Threads of a model job (encode, rerank), config model_threads; auto: every core given to
# --cores (torch's own default, one thread per core), so model jobs run one after another, each
# on the whole machine: on a quiet 2-core CPU two threads encode and rerank 1.8-1.9x as fast as
# one, and the job on the critical path (the reranker) is not held to half the machine while
# the other model has long finished (docs/benchmarks.md). Without --cores (a cluster run), 4.
_CORES = getattr(workflow, "_cores", None)
MODEL_THREADS = config["model_threads"]
if MODEL_THREADS == "auto":
    MODEL_THREADS = _CORES if _CORES and _CORES < 4096 else 4


wildcard_constraints:
    shard=r"\d+",


def part(path, ext=None):
    """Pattern of one shard's part of ``path`` (``path`` itself with shards: 1).

    ``a/b.npy`` -> ``a/b.shard{shard}of<N><ext or .npy>``.
    """
    if SHARDS == 1:
        return path
    stem, suffix = os.path.splitext(path)
    return f"{stem}.shard{{shard}}of{SHARDS}{ext or suffix}"


def part_output(path, ext=None):
    """A sharded rule's output: ``path`` itself, or a temporary part that a merge rule joins."""
    return path if SHARDS == 1 else temp(part(path, ext))


def parts(path, ext=None):
    """Every shard's part of ``path``, in shard order (other wildcards left in place)."""
    return expand(part(path, ext), shard=range(SHARDS), allow_missing=True)


def shard_of(wildcards):
    """0-based shard of a job (0 with shards: 1)."""
    return int(wildcards.get("shard", 0))

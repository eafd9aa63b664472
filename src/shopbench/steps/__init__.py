"""File-to-file steps, one per workflow rule (``STEPS``), split by stage.

Every rule runs ``workflow/scripts/step.py``, which calls :func:`run`: the rule's step gets its
named inputs, its named outputs (as ``<name>_out``), its params, and the wildcards and threads
it asks for, all by name. Every value a step's output depends on arrives that way, never from a
global config; outputs are written atomically.
"""

from __future__ import annotations

import inspect

from .corpus import corpus, fields, normalize_queries
from .data import download, sample
from .encode import encode_products, encode_queries, merge_embeddings
from .evaluate import aggregate, evaluate, latency
from .index import bm25_index, index
from .late import (encode_query_tokens, encode_tokens, late_rerank, late_search,
                   merge_tokens, token_index)
from .report import plots, provenance, tables
from .runs import fusion, merge_rerank, rerank
from .search import bm25, dense
from .train import train

#: Rule name -> step.
STEPS = {f.__name__: f for f in (
    download, sample, corpus, fields, normalize_queries, encode_products, merge_embeddings,
    encode_queries, index, bm25_index, dense, bm25, fusion, rerank, merge_rerank, evaluate,
    aggregate, latency, tables, plots, provenance, train)}
STEPS.update({f"download_{what}": download for what in ("examples", "products")})
STEPS.update({f.__name__: f for f in (encode_tokens, merge_tokens, encode_query_tokens,
                                      token_index, late_rerank, late_search)})


def _value(value, annotation: str):
    """A rule input as the step takes it: a list where the step wants one, else one path or
    None (an optional input left empty)."""
    if isinstance(value, str) or "list" in str(annotation):
        return value if isinstance(value, str) else list(value)
    value = list(value)
    return value[0] if value else None


def arguments(step, inputs: dict, outputs: dict, params: dict, wildcards: dict,
              threads: int, mem_mb: int | None = None) -> dict:
    """The keyword arguments of ``step`` for one job (see the module docstring)."""
    accepted = inspect.signature(step).parameters
    kwargs = {name: _value(v, accepted[name].annotation if name in accepted else "")
              for name, v in inputs.items()}
    kwargs.update({f"{name}_out": path for name, path in outputs.items()})
    kwargs.update(params)
    for name, value in wildcards.items():
        if name in accepted and name not in kwargs:
            kwargs[name] = int(value) if name in ("seed", "shard") else value
    if "threads" in accepted:
        kwargs["threads"] = threads
    if "mem_mb" in accepted and mem_mb:  # the rule's memory (resources), e.g. a JVM's -Xmx
        kwargs["mem_mb"] = int(mem_mb)
    return kwargs


def run(smk) -> None:
    """Run the step of the Snakemake job ``smk`` (the ``snakemake`` object of a script)."""
    from ..interrupt import stop_once
    from ..logs import step_logging

    stop_once()
    step = STEPS[smk.rule]
    kwargs = arguments(step, dict(smk.input.items()), dict(smk.output.items()),
                       dict(smk.params.items()), dict(smk.wildcards.items()), smk.threads,
                       getattr(smk.resources, "mem_mb", None))
    with step_logging(smk.log):
        step(**kwargs)

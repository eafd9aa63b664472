"""Render docs/configuration.md from the config schema (workflow/schemas/config.schema.yaml).

The schema is the one source of every key's type, default and description; this page is
generated from it and tests/unit/test_docs.py fails when the committed page is stale.

    python docs/make_configuration.py           # rewrite docs/configuration.md
    python docs/make_configuration.py --check   # exit 1 when docs/configuration.md is stale
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
PAGE = REPO / "docs" / "configuration.md"
COMMAND = "python docs/make_configuration.py"

INTRO = f"""\
<!-- Generated from workflow/schemas/config.schema.yaml by `{COMMAND}`: edit the schema, not this page. -->
# Configuration

This page is generated from the config schema,
[`workflow/schemas/config.schema.yaml`](../workflow/schemas/config.schema.yaml), the one source
of every key's type, default and meaning: edit the schema and run `{COMMAND}`
(`tests/unit/test_docs.py` fails when this page is stale).

`config.yaml` is the default experiment. Run another with `snakemake --cores all --configfile
experiments/X.yaml`: a `--configfile` replaces `config.yaml` (nothing is merged), so an experiment
file is complete on its own ([experiments.md](experiments.md) describes the shipped ones).
Everything not set takes the schema's default. The config is checked when the workflow is
parsed; a bad value stops it with a message naming the key (e.g. `config sampling.n_queries: 0
is less than the minimum of 1`; more in [troubleshooting.md](troubleshooting.md)).
"""


def _text(description: str) -> str:
    """A description on one line (folded YAML keeps line breaks as spaces)."""
    return " ".join(description.split())


def _linked(description: str) -> str:
    """A description on one line, its references to docs/<page>.md pages made links."""
    return re.sub(r"docs/([\w-]+\.md(?:#[\w-]+)?)", r"[\1](\1)", _text(description))


def missing_descriptions(schema: dict) -> list[str]:
    """Paths of every property (and approach type) of the schema that has no description."""
    missing: list[str] = []

    def walk(node, path: str) -> None:
        if not isinstance(node, dict):
            return  # `true`: the key is described where it is first defined
        if path and not _text(node.get("description", "")):
            missing.append(path)
        for key, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{key}" if path else key)
        if isinstance(node.get("items"), dict) and node["items"].get("properties"):
            for key, sub in node["items"]["properties"].items():
                walk(sub, f"{path}[].{key}")
            for branch in node["items"].get("allOf", []):
                kind = branch["if"]["properties"]["type"]["const"]
                walk(branch["then"], f"{path}[type={kind}]")

    walk(schema, "")
    return missing


def _code(value) -> str:
    return f"`{_literal(value)}`"


def _literal(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _alternatives(values: list) -> str:
    codes = [_code(v) for v in values]
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " or " + codes[-1]


def type_of(schema: dict) -> str:
    """The type of a property in words: `integer ≥ 1 or `all``, `list of `E`, `S`...`."""
    if "const" in schema:
        return _code(schema["const"])
    for combination in ("anyOf", "oneOf"):
        if combination in schema:
            return " or ".join(type_of(alt) for alt in schema[combination])
    if "enum" in schema:
        return _alternatives(schema["enum"])
    types = schema.get("type", [])
    words = []
    for kind in types if isinstance(types, list) else [types]:
        if kind == "array":
            item = schema.get("items", {})
            word = "list" if not item else f"list of {type_of(item)}"
            limits = []
            if schema.get("minItems", 0) > 1:
                limits.append(f"at least {schema['minItems']}")
            elif schema.get("minItems") == 1:
                limits.append("non-empty")
            if schema.get("uniqueItems"):
                limits.append("unique")
            words.append(word + (f" ({', '.join(limits)})" if limits else ""))
        elif kind in ("integer", "number"):
            bounds = []
            if "minimum" in schema and "maximum" in schema:
                words.append(f"{kind} from {schema['minimum']} to {schema['maximum']}")
                continue
            if "minimum" in schema:
                bounds.append(f"≥ {schema['minimum']}")
            if "exclusiveMinimum" in schema:
                bounds.append(f"> {schema['exclusiveMinimum']}")
            if "maximum" in schema:
                bounds.append(f"≤ {schema['maximum']}")
            words.append(" ".join([kind] + bounds))
        else:
            words.append(kind)
    return " or ".join(words) if words else "any"


def _default(schema: dict, required: bool) -> str:
    if required:
        return "required"
    if "default" in schema:
        return _code(schema["default"])
    return "—"


def _rows(properties: dict, required: list, prefix: str) -> list[tuple[str, str, str, str]]:
    """One row per property (and per key of a nested object with properties)."""
    rows = []
    for key, sub in properties.items():
        if not isinstance(sub, dict):
            continue
        name = prefix + key
        rows.append((f"`{name}`", type_of(sub), _default(sub, key in required),
                     _linked(sub["description"])))
        if sub.get("properties") and sub.get("type") in ("object", ["object", "null"]):
            rows += _rows(sub["properties"], sub.get("required", []), name + ".")
    return rows


def _table(rows: list[tuple[str, str, str, str]]) -> list[str]:
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for row in rows:
        for cell in row:
            if "|" in cell:
                raise ValueError(f"schema text {cell!r} holds '|', which would split the table")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def render(schema: dict) -> str:
    """docs/configuration.md for this schema."""
    missing = missing_descriptions(schema)
    if missing:
        raise ValueError("schema properties without a description: " + ", ".join(missing))
    top = schema["properties"]
    required = schema.get("required", [])
    out = [INTRO]
    out.append("Top-level keys: " + ", ".join(f"[`{key}`](#{key.lower()})" for key in top) + ".")
    for key, sub in top.items():
        out += ["", f"## `{key}`", ""]
        item = sub.get("items") if sub.get("type") == "array" else None
        if sub.get("type") == "object":
            out += [_linked(sub["description"]), ""]
            out += _table(_rows(sub["properties"], sub.get("required", []), key + "."))
        elif isinstance(item, dict) and item.get("properties"):
            default = _default(sub, key in required)
            out += [_linked(sub["description"]), "",
                    f"`{key}`: {type_of(sub)}, " + (default if default == "required"
                                                     else f"default {default}") + "."]
        else:
            out += _table(_rows({key: sub}, required, ""))
        if isinstance(item, dict) and item.get("properties"):
            out += ["", f"Keys of each entry of `{key}`:", ""]
            out += _table(_rows(item["properties"], item.get("required", []), ""))
            for branch in item.get("allOf", []):
                kind = branch["if"]["properties"]["type"]["const"]
                then = branch["then"]
                rows = _rows(then["properties"], then.get("required", []), "")
                out += ["", f"### `{kind}`", "", f"`type: {kind}`. " + _linked(then["description"])]
                out += [""] + _table(rows)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when docs/configuration.md differs from the schema's page")
    args = parser.parse_args(argv)
    page = render(yaml.safe_load(SCHEMA.read_text(encoding="utf-8")))
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != page:
            print(f"{PAGE.relative_to(REPO)} is stale: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

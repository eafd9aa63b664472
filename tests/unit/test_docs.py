"""The documentation: docs/configuration.md is the schema's, every link and anchor resolves, and
the README keeps its quickstart commands (the test command is the one CI runs)."""

from __future__ import annotations

import copy
import importlib.util
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text(encoding="utf-8"))
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

_spec = importlib.util.spec_from_file_location("make_configuration",
                                               REPO / "docs" / "make_configuration.py")
make_configuration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_configuration)


def test_configuration_page_is_generated_from_the_current_schema():
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == make_configuration.render(SCHEMA), (
        "docs/configuration.md is stale: run python docs/make_configuration.py")


def test_every_schema_property_has_a_description():
    assert make_configuration.missing_descriptions(SCHEMA) == []


def test_every_schema_key_is_on_the_configuration_page():
    page = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    approach = SCHEMA["properties"]["approaches"]["items"]
    for branch in approach["allOf"]:
        kind = branch["if"]["properties"]["type"]["const"]
        section = page.split(f"### `{kind}`")[1].split("\n### ")[0].split("\n## ")[0]
        for key, sub in branch["then"]["properties"].items():
            if sub is not True:
                assert f"| `{key}` |" in section, (kind, key)
    for key in SCHEMA["properties"]["sampling"]["properties"]:
        assert f"| `sampling.{key}` |" in page


def test_a_property_without_a_description_stops_the_generator():
    schema = copy.deepcopy(SCHEMA)
    del schema["properties"]["sampling"]["properties"]["n_rows"]["description"]
    del schema["properties"]["models"]["items"]["properties"]["index"]["description"]
    bm25 = schema["properties"]["approaches"]["items"]["allOf"][1]["then"]
    del bm25["properties"]["fields"]["properties"]["product_brand"]["description"]
    del schema["properties"]["approaches"]["items"]["allOf"][3]["then"]["description"]
    assert make_configuration.missing_descriptions(schema) == [
        "sampling.n_rows", "models[].index", "approaches[type=bm25].fields.product_brand",
        "approaches[type=rerank]"]
    with pytest.raises(ValueError, match=r"schema properties without a description: "
                       r"sampling\.n_rows, models\[\]\.index, "):
        make_configuration.render(schema)


def test_a_pipe_in_a_description_stops_the_generator():
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["device"]["description"] = "auto | cpu"
    with pytest.raises(ValueError, match=r"schema text 'auto \| cpu' holds '\|'"):
        make_configuration.render(schema)


def test_check_reports_a_stale_page(tmp_path, monkeypatch, capsys):
    page = tmp_path / "configuration.md"
    monkeypatch.setattr(make_configuration, "PAGE", page)
    monkeypatch.setattr(make_configuration, "REPO", tmp_path)
    page.write_text("# Configuration\n", encoding="utf-8")
    assert make_configuration.main(["--check"]) == 1
    assert "configuration.md is stale: run python docs/make_configuration.py" in (
        capsys.readouterr().err)
    assert make_configuration.main([]) == 0
    assert make_configuration.main(["--check"]) == 0
    assert page.read_text(encoding="utf-8") == make_configuration.render(SCHEMA)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lowercased, punctuation but '-' and '_' dropped."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        anchors.update(re.findall(r'<a id="([^"]+)"', line))
        heading = re.match(r"#{1,6} (.+)", line)
        if heading:
            slug = _slug(heading.group(1))
            anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def _broken(source: Path, target: str) -> str | None:
    """Why a relative link from source does not resolve, or None."""
    file, _, anchor = target.partition("#")
    dest = (source.parent / file).resolve() if file else source
    if not dest.exists():
        return f"{target}: no file {dest}"
    if anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
        shown = dest.relative_to(REPO) if dest.is_relative_to(REPO) else dest
        return f"{target}: no heading or <a id> '{anchor}' in {shown}"
    return None


def test_anchor_slugs_follow_github():
    assert _slug("The catalogue experiment at 1.2M products, through snakemake") == (
        "the-catalogue-experiment-at-12m-products-through-snakemake")
    assert _slug("`latency_queries`") == "latency_queries"
    assert _slug("Example: the notebook's next steps") == "example-the-notebooks-next-steps"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_of_a_page_resolves(page):
    links = [link for link in _links(page) if not re.match(r"[a-z]+:", link)]
    broken = [why for link in links if (why := _broken(page, link))]
    assert broken == []


def test_a_broken_link_is_reported(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Set up\n", encoding="utf-8")
    assert _broken(page, "#set-up") is None
    assert _broken(page, "#title") is None
    assert "#setup: no heading or <a id> 'setup' in " in _broken(page, "#setup")
    assert _broken(page, "other.md").startswith("other.md: no file ")


CODE = [REPO / "Snakefile", REPO / ".ci" / "run", *sorted((REPO / "src").rglob("*.py")),
        *sorted((REPO / "workflow").rglob("*.*")), *sorted((REPO / "benchmarks").glob("*.py")),
        *sorted((REPO / "tests").glob("*.py")), *sorted((REPO / "experiments").glob("*.yaml"))]


def test_every_page_named_in_code_and_configs_exists():
    broken = []
    for path in CODE:
        if not path.is_file() or path.suffix in {".png", ".pyc"}:
            continue
        for target in re.findall(r"(?:docs/[\w-]+\.md|README\.md)(?:#[\w-]+)?",
                                 path.read_text(encoding="utf-8")):
            why = _broken(REPO / "x", target)
            if why:
                broken.append(f"{path.relative_to(REPO)}: {why}")
    assert broken == []


def _code_lines(text: str) -> list[str]:
    blocks = re.findall(r"```(?:bash)?\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.splitlines()]


def test_readme_keeps_the_quickstart_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    lines = _code_lines(readme)
    assert "python3 -m venv .venv && . .venv/bin/activate" in lines
    assert ("python3 -m pip install torch==2.13.0 --index-url "
            "https://download.pytorch.org/whl/cpu") in lines
    assert "python3 -m pip install -e . && snakemake --cores all" in lines
    test_command = 'python3 -m pip install -e ".[test]" && HF_HUB_OFFLINE=1 python3 -m pytest'
    assert test_command in lines
    assert test_command in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_torch_pin_of_the_readme_is_the_projects():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pin = re.search(r'"torch==([0-9.]+)"', (REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pin and f"torch=={pin.group(1)} --index-url" in readme


def test_readme_is_a_front_page():
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 200

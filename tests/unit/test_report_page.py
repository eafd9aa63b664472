"""The report's landing page (workflow/report/workflow.rst, a Jinja template Snakemake renders
with the validated config) describes each protocol's sampling as it is done."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from jinja2 import Environment

from shopbench.config import validate

REPO = Path(__file__).resolve().parents[2]


def landing_page(experiment: str) -> str:
    config = validate(yaml.safe_load((REPO / "experiments" / experiment).read_text()))

    class Snakemake:  # what Snakemake hands the template
        pass

    Snakemake.config = config
    env = Environment(trim_blocks=True, lstrip_blocks=True)  # Snakemake's settings
    template = (REPO / "workflow" / "report" / "workflow.rst").read_text(encoding="utf-8")
    return env.from_string(template).render(snakemake=Snakemake, categories={}, files={})


def test_catalogue_page_names_the_protocol_and_ignores_n_rows():
    page = " ".join(landing_page("catalogue.yaml").split())
    assert "Protocol**: ``catalogue`` (every query searches the whole catalogue" in page
    assert "()" not in page
    assert ("50 queries drawn per seed from those of split ``all`` and version ``all``"
            in page)
    assert "rows drawn from their rows" not in page and "``n_rows`` is not used" in page


@pytest.mark.parametrize("experiment, protocol", [("judged-pool.yaml", "judged-pool"),
                                                  ("seed.yaml", "seed")])
def test_other_protocols_keep_the_notebooks_two_stage_sampling(experiment, protocol):
    page = " ".join(landing_page(experiment).split())
    assert re.search(rf"Protocol\*\*: ``{protocol}`` \(\w", page)
    assert re.search(r"\d+ queries asked for, then \d+ rows drawn from their rows", page)
    assert "- **Sampling**" in landing_page(experiment)  # still a list item of its own

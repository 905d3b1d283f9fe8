"""A template author reads what a template may use, generated from what is really passed."""

from __future__ import annotations

from pathlib import Path

from service.cli import main
from templates import reference
from templates.check import SPECS

DOC = Path(__file__).resolve().parents[2] / "docs" / "template-variables.md"


def test_every_variable_each_template_is_given_is_listed_with_its_meaning():
    for kind in reference.kinds():
        schema = SPECS[kind.name].context_schema()
        listed = " ".join(v.usage for v in kind.variables)
        for name in schema.fields:
            assert name in listed, f"{kind.name}: {name} missing"
        # every line says what it holds in Chinese, not the bare key
        assert all(v.meaning and not v.meaning.isascii() for v in kind.variables), kind.name


def test_the_document_in_docs_is_the_generated_reference(runner):
    """docs/template-variables.md is `hetong templates reference` (regenerate after a change)."""
    assert DOC.read_text("utf-8") == reference.markdown()
    printed = runner.invoke(main, ["templates", "reference"])
    assert printed.exit_code == 0 and printed.output == reference.markdown()

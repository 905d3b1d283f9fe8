"""An operator runs ``hetong`` from the wrong folder (or with a mistyped ``--data-dir``): the
command says there is no archive there and how to point at one, exits 3, and leaves no new
empty ``./var`` behind. Only ``users add`` (and ``serve``) start a new data root."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from service.cli import main

ELSEWHERE_COMMANDS = [
    ["contracts", "show", "HT-202611-0001"],
    ["users", "list"],
    ["volumes", "list"],
    ["search", "车床"],
    ["receivables"],
    ["retention", "run", "--dry-run"],
    ["index", "check"],
    ["--as", "wang", "contracts", "status", "HT-202611-0001", "effective"],
]


@pytest.fixture
def elsewhere(tmp_path, monkeypatch, converter):
    """A shell in a folder that is not the archive's, with no HETONG_DATA_DIR set."""
    for name in ("HETONG_DATA_DIR", "HETONG_DATABASE_URL", "HETONG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HETONG_CONVERTER_URL", converter._url)
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("args", ELSEWHERE_COMMANDS, ids=lambda a: " ".join(a))
def test_a_command_where_no_archive_is_refuses_and_creates_nothing(elsewhere, args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 3, result.output
    assert "没有目录库" in result.stderr
    assert str(elsewhere / "var") in result.stderr
    assert "--data-dir" in result.stderr and "HETONG_DATA_DIR" in result.stderr
    assert "hetong users add" in result.stderr
    assert list(elsewhere.iterdir()) == []  # no ./var


def test_an_existing_folder_without_a_catalogue_is_refused_and_left_as_it_was(elsewhere):
    empty = elsewhere / "backup"
    empty.mkdir()
    result = CliRunner().invoke(main, ["--data-dir", str(empty), "volumes", "list"])
    assert result.exit_code == 3
    assert str(empty) in result.stderr
    assert list(empty.iterdir()) == []


def test_users_add_starts_a_new_archive_that_other_commands_then_use(elsewhere):
    root = elsewhere / "new-archive"
    added = CliRunner().invoke(main, ["--data-dir", str(root), "users", "add", "wang",
                                      "--role", "manager"])  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = CliRunner().invoke(main, ["--data-dir", str(root), "users", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.split("\t")[0] == "wang"


def test_commands_that_need_no_archive_still_run_anywhere(elsewhere):
    for args in (["--help"], ["settings"], ["templates", "check"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    assert list(elsewhere.iterdir()) == []

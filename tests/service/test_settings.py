"""Settings are declared once, layered (defaults < TOML file < environment < code),
and documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import config

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_file_environment_and_code_in_that_order(tmp_path):
    toml = tmp_path / "hetong.toml"
    toml.write_text('data_dir = "/srv/hetong"\nport = 9000\nregions = ["华东"]\n', "utf-8")
    env = {"HETONG_CONFIG": str(toml), "HETONG_PORT": "9100"}
    values = config.load({"THREADS": 2}, environ=env)
    assert values["DATA_DIR"] == "/srv/hetong"
    assert values["PORT"] == 9100
    assert values["REGIONS"] == ["华东"]
    assert values["THREADS"] == 2
    assert values["CONVERTER_TIMEOUT"] == 60
    assert config.load(environ={})["DATA_DIR"] == str(Path("./var").resolve())


def test_an_unknown_setting_in_the_file_is_an_error(tmp_path):
    toml = tmp_path / "hetong.toml"
    toml.write_text("data_dri = '/tmp'\n", "utf-8")
    with pytest.raises(ValueError, match="DATA_DRI"):
        config.load(environ={"HETONG_CONFIG": str(toml)})


def test_readme_opens_with_the_two_commands_and_documents_every_setting():
    text = README.read_text("utf-8")
    first_block = text.split("```")[1]
    assert [line.strip() for line in first_block.strip().splitlines()[-2:]] == [
        "make run", "make test",
    ]  # fmt: skip
    assert config.settings_table() in text

"""What every command shares: the archive of the data root, who acts, and how domain errors
become a message on stderr and a distinct exit code.

Exit codes: 0 ok, 1 unexpected failure, 2 invalid input, 3 not found,
4 refused (state or role), 5 rendering unavailable (LibreOffice / fonts).
"""

from __future__ import annotations

import getpass
import json
import sys
from functools import wraps
from typing import Any

import click

from archive import startup, users
from archive.audit import Actor
from archive.core import Archive
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from service import config as settings
from service.ext import build_archive
from templates.errors import ConverterUnavailable, FontMissing, RenderError

EXIT_INVALID, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_UNAVAILABLE = 2, 3, 4, 5


class Context:
    """The command line's state: settings overrides, ``--as``, and the archive (opened once,
    on first use, so that ``hetong --help`` never touches the data root)."""

    def __init__(self, data_dir: str | None, acting_as: str | None) -> None:
        self.overrides = {"DATA_DIR": data_dir} if data_dir else {}
        self.acting_as = acting_as
        self._archive: Archive | None = None

    @property
    def settings(self) -> dict[str, Any]:
        return settings.load(self.overrides)

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = startup.start(build_archive(self.settings))
        return self._archive

    def actor(self) -> Actor:
        """Act as a catalogue user (``--as``), or as the local operator with full rights."""
        if self.acting_as:
            user = users.by_name(self.archive.catalogue, self.acting_as)
            if user is None:
                fail(f"用户 {self.acting_as} 不存在（先运行 hetong users add）。", EXIT_NOT_FOUND)
            return Actor(user.name, user.role, client="cli")
        return Actor(f"cli:{getpass.getuser()}", "admin", client="cli")

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()


pass_ctx = click.make_pass_decorator(Context)


def fail(message: str, code: int) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def domain_errors(func):
    """Turn domain exceptions into a message on stderr and a distinct exit code."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InvalidData as exc:
            click.echo(f"错误：{exc.message}", err=True)
            for path, messages in exc.errors.items():
                click.echo(f"  {path}: {' '.join(messages)}", err=True)
            sys.exit(EXIT_INVALID)
        except NotFound as exc:
            fail(exc.message, EXIT_NOT_FOUND)
        except (Conflict, Forbidden) as exc:
            fail(exc.message, EXIT_REFUSED)
        except (ConverterUnavailable, FontMissing) as exc:
            fail(f"文档生成暂不可用：{exc}", EXIT_UNAVAILABLE)
        except RenderError as exc:
            fail(f"文档生成失败：{exc}", 1)

    return wrapper


def read_json(file) -> Any:
    try:
        return json.loads(file.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidData({"_file": [f"不是有效的 UTF-8 JSON：{exc}"]}) from exc

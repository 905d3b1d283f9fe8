"""What every command shares: the archive of the data root, who acts, and how domain errors
become a message on stderr and a distinct exit code.

Exit codes: 0 ok, 1 unexpected failure (or a catalogue a newer hetong migrated), 2 invalid
input, 3 not found (the contract, the user — or the archive: a data root without a catalogue,
see ``Context.archive``), 4 refused (state or role), 5 rendering unavailable (LibreOffice /
fonts), 6 gone (the contract was destroyed: its register entry is printed as JSON on stdout),
7 damaged (``hetong fixity check`` found stored files missing or damaged: restore them).
"""

from __future__ import annotations

import getpass
import json
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from archive import startup, users
from archive.actor import Actor
from archive.core import CATALOGUE_FILE, Archive, holds_archive
from archive.errors import (
    CatalogueTooNew,
    Conflict,
    FileMissing,
    Forbidden,
    Gone,
    InvalidData,
    NotFound,
)
from schemas.labels import field_label
from service import config as settings
from service.ext import build_archive
from templates.errors import ConverterUnavailable, FontMissing, RenderError

EXIT_INVALID, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_GONE = 2, 3, 4, 5, 6
EXIT_DAMAGED = 7


class Context:
    """The command line's state: settings overrides, ``--as``, and the archive (opened once,
    on first use, so that ``hetong --help`` never touches the data root)."""

    def __init__(self, data_dir: str | None, acting_as: str | None) -> None:
        self.overrides = {"DATA_DIR": data_dir} if data_dir else {}
        self.acting_as = acting_as
        # False for ``hetong reindex``: building an empty index at start would only be done
        # again by the command.
        self.fill_index = True
        self._archive: Archive | None = None

    @property
    def settings(self) -> dict[str, Any]:
        return settings.load(self.overrides)

    @property
    def archive(self) -> Archive:
        """The archive of an existing data root. Where there is none (run from another folder,
        a mistyped ``--data-dir``) the command stops with exit 3 and a hint, and creates
        nothing: an empty ``./var`` beside the real archive would only hide the mistake."""
        if self._archive is None:
            values = self.settings
            if not holds_archive(Path(values["DATA_DIR"]), values["DATABASE_URL"]):
                fail(_no_archive(values), EXIT_NOT_FOUND)
            self._archive = _start(values, fill_index=self.fill_index)
        return self._archive

    def new_or_existing_archive(self) -> Archive:
        """The archive of the data root, which is created if it holds none yet (for
        ``hetong users add``, the first command of a new archive)."""
        if self._archive is None:
            self._archive = _start(self.settings)
        return self._archive

    def actor(self) -> Actor:
        """Act as a catalogue user (``--as``), or as the local operator with full rights."""
        if self.acting_as:
            user = users.by_name(self.archive.catalogue, self.acting_as)
            if user is None:
                fail(f"用户 {self.acting_as} 不存在（先运行 hetong users add）。", EXIT_NOT_FOUND)
            if not user.active:
                fail(f"用户 {self.acting_as} 已停用，不能以其身份操作。", EXIT_REFUSED)
            return users.actor_of(user, "cli")
        return Actor(f"cli:{getpass.getuser()}", "admin", client="cli", operator=True)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()


pass_ctx = click.make_pass_decorator(Context)

PROGRESS_EVERY = 5.0  # seconds


class Progress:
    """Progress of a long run on stderr (stdout stays the report alone): nothing for a short
    run (a cron log stays short), then a line at most every ``every`` seconds, and the last
    line of a stage that was shown. ``lines``: stage → "清理：{done}/{total} 份合同"."""

    def __init__(self, lines: dict[str, str], every: float = PROGRESS_EVERY) -> None:
        self.lines = lines
        self.every = every
        self.last = time.monotonic()  # the start counts as a line: the first comes later
        self.shown: set[str] = set()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        final = done >= total and stage in self.shown  # close a stage that was shown
        if not final and now - self.last < self.every:
            return
        self.last = now
        self.shown.add(stage)
        click.echo(self.lines[stage].format(done=done, total=total), err=True)

    def of(self, stage: str) -> Callable[[int, int], None]:
        """For work of one stage, reporting (done, total)."""
        return lambda done, total: self(stage, done, total)


def _start(values: dict[str, Any], *, fill_index: bool = True) -> Archive:
    """The opened archive; a catalogue too new for this program stops the command (exit 1)
    with the reason instead of a traceback."""
    archive = build_archive(values)
    try:
        return startup.start(archive, fill_index=fill_index)
    except CatalogueTooNew as exc:
        archive.close()
        fail(exc.message, 1)


def _no_archive(values: dict[str, Any]) -> str:
    root = values["DATA_DIR"]
    where = (f"数据目录 {root} 不存在" if values["DATABASE_URL"]
             else f"数据目录 {root} 中没有目录库（{CATALOGUE_FILE}）")  # fmt: skip
    return (f"{where}，这里不是 hetong 的档案。请用 --data-dir 或 HETONG_DATA_DIR 指向"
            "已有的数据目录（默认是当前目录下的 ./var）；"
            "要新建档案，先运行 hetong users add。")  # fmt: skip


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
            for path, messages in exc.errors.items():  # the path in the file, and its label
                label = field_label(path)
                named_path = f"{path}（{label}）" if label and label != path else path
                if len(messages) == 1:
                    click.echo(f"  {named_path}：{messages[0]}", err=True)
                else:  # a refused template's problems: one a line, each with its place
                    click.echo(f"  {named_path}：", err=True)
                    for message in messages:
                        click.echo(f"    {message}", err=True)
            sys.exit(EXIT_INVALID)
        except NotFound as exc:
            fail(exc.message, EXIT_NOT_FOUND)
        except Gone as exc:
            click.echo(json.dumps(exc.details.get("tombstone"), ensure_ascii=False, indent=2))
            fail(exc.message, EXIT_GONE)
        except (Conflict, Forbidden) as exc:
            fail(exc.message, EXIT_REFUSED)
        except (ConverterUnavailable, FontMissing) as exc:
            fail(f"文档生成暂不可用：{exc}", EXIT_UNAVAILABLE)
        except RenderError as exc:
            fail(f"文档生成失败：{exc}", 1)
        except FileMissing as exc:  # the store lost a file: restore it from the backup
            fail(exc.message, 1)

    return wrapper


def read_json(file) -> Any:
    try:
        return json.loads(file.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidData({"_file": [f"不是有效的 UTF-8 JSON：{exc}"]}) from exc

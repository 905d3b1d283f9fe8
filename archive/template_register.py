"""The template register (模板库): every kind of template — for sales contracts, one per
business type (设备买卖, 零部件供货 …) — and its versions: the Word file, its SHA-256, who
uploaded it and when, a note, and its state (draft → active → retired). Exactly one version
of a template is active; it is what new documents of that kind and business type are made
with, and each document names the version it was made with.

The bundled templates are version 1 (``seed``, at every start: a template the register lacks
is created; a bundled version still active follows a new release's file). An upload is checked
in a bounded worker before anything is kept (``templates.template_uploads``) and becomes a
draft; an administrator activates it. Files live in the catalogue, so a backup, a restore and
every node sharing the catalogue have them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.actor import SYSTEM, Actor
from archive.catalogue import Catalogue, hold_in_transaction
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from archive.models import Contract, Document, Template, TemplateVersion, utcnow
from templates import BUNDLED as BUNDLED_DIR
from templates.check import SPECS
from templates.errors import TemplateProblem
from templates.reference import TITLES
from templates.render import Renderer, TemplateFile
from templates.template_uploads import TemplateRejected, check_template

if TYPE_CHECKING:
    from archive.core import Archive

log = logging.getLogger(__name__)

KINDS = tuple(SPECS)
# Kinds with a template per business type; the others have one for all business.
PER_BUSINESS = ("sales_contract",)
DRAFT, ACTIVE, RETIRED = "draft", "active", "retired"
# bundled: shipped with hetong (and followed by a new release); folder: from the operator's
# HETONG_TEMPLATE_DIR (never replaced by a release); upload: an administrator's.
BUNDLED, FOLDER, UPLOAD = "bundled", "folder", "upload"
STATE_NAMES = {DRAFT: "草稿", ACTIVE: "使用中", RETIRED: "已停用"}
ORIGIN_NAMES = {BUNDLED: "随系统提供", FOLDER: "模板文件夹", UPLOAD: "上传"}
LOCK = "template-register"
MAX_BUSINESS_TYPE = 40
MAX_NOTE = 500
KEEP_BYTES = 32 * 1024 * 1024  # template files kept in memory, by SHA-256 (they never change)
_files: dict[str, bytes] = {}


def title(template: Template) -> str:
    """销售合同·设备买卖, 补充协议 …: what people call a template."""
    kind = TITLES.get(template.kind, template.kind)
    return f"{kind}·{template.business_type}" if template.business_type else kind


def _admin(actor: Actor) -> None:
    if not actor.can("admin"):
        raise Forbidden("只有管理员可以管理模板。")


# -- start-up ----------------------------------------------------------------------------------


def seed(archive: Archive) -> None:
    """Register the bundled templates as version 1 of every template the register lacks
    (from ``HETONG_TEMPLATE_DIR`` when it holds that kind), and link documents filed before
    the register to them.

    A new release's bundled file becomes the active version only where the newest bundled
    version is still the active one and the file is not a version already: never over an
    upload, never after an administrator went back to an earlier version, and a node still
    on the old release (a rolling upgrade) does not turn it back. A folder of
    ``HETONG_TEMPLATE_DIR`` only fills what is missing: new wording is uploaded."""
    with archive.catalogue.lock(LOCK), archive.catalogue.writing() as session:
        added = []
        for kind in KINDS:
            bundled, origin = _bundled(archive, kind)
            types = [""]
            if kind in PER_BUSINESS:
                types = list(dict.fromkeys([*archive.business_types,
                                            archive.default_business_type]))  # fmt: skip
            for business_type in types:
                template = session.scalar(select(Template).where(
                    Template.kind == kind, Template.business_type == business_type))  # fmt: skip
                if template is None:
                    template = Template(kind=kind, business_type=business_type,
                                        name=f"{business_type}{TITLES.get(kind, kind)}（标准）",
                                        created_by=SYSTEM.name)  # fmt: skip
                    session.add(template)
                    session.flush()
                elif origin != BUNDLED or not _follows_release(session, template, bundled.sha256):
                    continue
                version = _add(session, template, bundled.data, bundled.sha256,
                               filename=f"{kind}.docx", origin=origin, actor=SYSTEM,
                               note=NOTES[origin])  # fmt: skip
                _activate(session, template, version, SYSTEM)
                if version.number > 1:
                    audit.record(session, SYSTEM, "template.activate",
                                 f"{title(template)} 第 {version.number} 版",
                                 sha256=version.sha256, note="随新版本提供的标准模板")  # fmt: skip
                added.append((template, version))
        for template, version in added:
            _link(session, template, version, archive.default_business_type)


NOTES = {BUNDLED: "随系统提供的标准模板", FOLDER: "取自模板文件夹（HETONG_TEMPLATE_DIR）"}


def _bundled(archive: Archive, kind: str) -> tuple[TemplateFile, str]:
    """The file of ``kind`` in the archive's template folder, else the bundled one, and
    which of them it is (``FOLDER`` or ``BUNDLED``)."""
    if Path(archive.renderer.template_dir).resolve() != BUNDLED_DIR.resolve():
        try:
            return archive.renderer.template(kind), FOLDER
        except TemplateProblem:
            pass  # the folder lacks this kind
    return Renderer(BUNDLED_DIR).template(kind), BUNDLED


def _follows_release(session: Session, template: Template, sha256: str) -> bool:
    """Whether a changed bundled file should replace the template's active version."""
    rows = session.execute(select(TemplateVersion.number, TemplateVersion.sha256,
                                  TemplateVersion.origin, TemplateVersion.state)
                           .where(TemplateVersion.template_id == template.id)).all()  # fmt: skip
    if any(row.sha256 == sha256 for row in rows):
        return False
    bundled = [row for row in rows if row.origin == BUNDLED]
    newest = max(bundled, key=lambda row: row.number, default=None)
    return newest is not None and newest.state == ACTIVE


def _link(session: Session, template: Template, version: TemplateVersion,
          default_type: str) -> None:  # fmt: skip
    """Name ``version`` on the documents made with its very file before the register knew
    it (a sales contract's: of its business type; of the default one when it had none)."""
    contracts = select(Contract.id)
    if template.kind in PER_BUSINESS:
        mine = Contract.business_type == template.business_type
        if template.business_type == default_type:
            mine = mine | Contract.business_type.is_(None)
        contracts = contracts.where(mine)
    session.execute(
        update(Document)
        .where(Document.template_version_id.is_(None), Document.template_name == template.kind,
               Document.template_sha256 == version.sha256, Document.contract_id.in_(contracts))
        .values(template_version_id=version.id)
        .execution_options(synchronize_session=False)
    )  # fmt: skip


# -- what renders --------------------------------------------------------------------------------


def business_types(catalogue: Catalogue) -> list[str]:
    """The business types a sales contract may be drafted for (those with a template)."""
    with catalogue.reading() as session:
        return list(session.scalars(
            select(Template.business_type).where(Template.kind == "sales_contract")
            .order_by(Template.id)))  # fmt: skip


def active(catalogue: Catalogue, kind: str, business_type: str = "") -> TemplateFile:
    """The active version of the template of ``kind`` (and ``business_type``), to render."""
    with catalogue.reading() as session:
        row = session.execute(
            select(TemplateVersion.id, TemplateVersion.sha256)
            .join(Template).where(Template.kind == kind,
                                  Template.business_type == business_type,
                                  TemplateVersion.state == ACTIVE)
        ).first()  # fmt: skip
        if row is None:
            if kind in PER_BUSINESS:
                known = "、".join(business_types(catalogue)) or "无"
                raise InvalidData({"business_type": [
                    f"没有“{business_type}”业务类型的合同模板（可选：{known}）。"]})  # fmt: skip
            raise NotFound(f"模板库中没有“{TITLES.get(kind, kind)}”模板。")
        return TemplateFile(kind, _data(session, row.id, row.sha256), row.sha256, row.id)


def file_of(catalogue: Catalogue, version_id: int) -> TemplateFile:
    """A version's file by its id (the one a document was made with)."""
    with catalogue.reading() as session:
        row = session.execute(
            select(Template.kind, TemplateVersion.sha256).join(TemplateVersion.template)
            .where(TemplateVersion.id == version_id)
        ).first()  # fmt: skip
        if row is None:
            raise NotFound(f"没有编号为 {version_id} 的模板版本。")
        return TemplateFile(row.kind, _data(session, version_id, row.sha256), row.sha256,
                            version_id)  # fmt: skip


def _data(session: Session, version_id: int, sha256: str) -> bytes:
    """A version's bytes, from memory when read before (by SHA-256: they never change)."""
    data = _files.get(sha256)
    if data is None:
        data = session.scalar(select(TemplateVersion.data).where(TemplateVersion.id == version_id))
        if sum(map(len, _files.values())) + len(data) > KEEP_BYTES:
            _files.clear()
        _files[sha256] = data
    return data


# -- the register --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """How a document names the version it was made with."""

    template_id: int
    number: int
    title: str
    sha256: str

    def named(self) -> dict[str, Any]:
        """As a dossier names it: title, version, sha256."""
        return {"title": self.title, "version": self.number, "sha256": self.sha256}


def labels(catalogue: Catalogue, version_ids: set[int | None]) -> dict[int, Label]:
    """The labels of the versions ``version_ids`` (None and unknown ids are left out)."""
    wanted = {i for i in version_ids if i is not None}
    if not wanted:
        return {}
    with catalogue.reading() as session:
        rows = session.execute(
            select(TemplateVersion.id, TemplateVersion.number, TemplateVersion.sha256, Template)
            .join(Template).where(TemplateVersion.id.in_(wanted))
        ).all()  # fmt: skip
        return {row[0]: Label(row[3].id, row[1], title(row[3]), row[2]) for row in rows}


def listing(catalogue: Catalogue) -> list[Template]:
    """Every template with its versions, by kind, then business type."""
    order = {kind: n for n, kind in enumerate(KINDS)}
    with catalogue.reading() as session:
        found = session.scalars(select(Template).options(selectinload(Template.versions))).all()
        return sorted(found, key=lambda t: (order.get(t.kind, 99), t.id))


def get(catalogue: Catalogue, template_id: int) -> Template:
    with catalogue.reading() as session:
        template = session.scalar(select(Template).where(Template.id == template_id)
                                  .options(selectinload(Template.versions)))  # fmt: skip
        if template is None:
            raise NotFound(f"没有编号为 {template_id} 的模板。")
        return template


def version(template: Template, number: int) -> TemplateVersion:
    for found in template.versions:
        if found.number == number:
            return found
    raise NotFound(f"{title(template)} 没有第 {number} 版。")


def create(archive: Archive, business_type: str, actor: Actor, *, name: str = "") -> Template:
    """A sales-contract template for a new business type, starting from the bundled file as
    version 1 (active at once, so the business type can be chosen; upload its own wording
    as version 2)."""
    _admin(actor)
    business_type = " ".join(business_type.split())
    if not business_type or len(business_type) > MAX_BUSINESS_TYPE:
        raise InvalidData({"business_type": [f"请填写业务类型（至多 {MAX_BUSINESS_TYPE} 字）。"]})
    bundled, origin = _bundled(archive, "sales_contract")
    with archive.catalogue.writing() as session:
        hold_in_transaction(session, LOCK)
        if session.scalar(
            select(Template.id).where(
                Template.kind == "sales_contract", Template.business_type == business_type
            )
        ):
            raise Conflict(f"业务类型“{business_type}”已有合同模板。", field="business_type")
        template = Template(kind="sales_contract", business_type=business_type,
                            name=(name or "").strip()[:100] or f"销售合同（{business_type}）",
                            created_by=actor.name)  # fmt: skip
        session.add(template)
        session.flush()
        first = _add(session, template, bundled.data, bundled.sha256,
                     filename="sales_contract.docx", origin=origin, actor=actor,
                     note=NOTES[origin])  # fmt: skip
        _activate(session, template, first, actor)
        audit.record(session, actor, "template.create", title(template))
        template_id = template.id
    return get(archive.catalogue, template_id)


def upload(archive: Archive, template_id: int, data: bytes, actor: Actor, *,
           filename: str = "", note: str | None = None) -> TemplateVersion:  # fmt: skip
    """Check ``data`` as the next version of the template and keep it as a draft; or refuse
    it (``InvalidData`` on ``file``, every problem with its place) and keep nothing."""
    _admin(actor)
    template = get(archive.catalogue, template_id)
    if len(note or "") > MAX_NOTE:
        raise InvalidData({"note": [f"说明至多 {MAX_NOTE} 字。"]})
    try:
        checked = check_template(data, template.kind, archive.upload_limits, archive.converter)
    except TemplateRejected as exc:
        raise InvalidData({"file": [exc.message]}, "模板未通过检查，未保存。") from None
    if checked.problems:
        raise InvalidData({"file": [str(p) for p in checked.problems]}, "模板未通过检查，未保存。")
    with archive.catalogue.writing() as session:
        hold_in_transaction(session, LOCK)
        template = session.get(Template, template_id)
        same = session.scalar(select(TemplateVersion.number).where(
            TemplateVersion.template_id == template_id,
            TemplateVersion.sha256 == checked.sha256))  # fmt: skip
        if same is not None:
            raise Conflict(f"与{title(template)}第 {same} 版的文件完全相同。", field="file")
        kept = _add(session, template, checked.data, checked.sha256,
                    filename=(filename or "").strip()[-200:] or f"{template.kind}.docx",
                    origin=UPLOAD, actor=actor, note=(note or "").strip() or None,
                    state=DRAFT, fixes=checked.fixes)  # fmt: skip
        audit.record(session, actor, "template.upload", f"{title(template)} 第 {kept.number} 版",
                     sha256=checked.sha256, fixes=checked.fixes)  # fmt: skip
        number = kept.number
    return version(get(archive.catalogue, template_id), number)


def activate(catalogue: Catalogue, template_id: int, number: int,
             actor: Actor) -> TemplateVersion:  # fmt: skip
    """Make version ``number`` the one new documents use; the one before is retired (and can
    be activated again: going back is activating the earlier version)."""
    _admin(actor)
    with catalogue.writing() as session:
        hold_in_transaction(session, LOCK)
        template = session.get(Template, template_id)
        if template is None:
            raise NotFound(f"没有编号为 {template_id} 的模板。")
        chosen = version(template, number)
        if chosen.state != ACTIVE:
            _activate(session, template, chosen, actor)
            audit.record(session, actor, "template.activate", f"{title(template)} 第 {number} 版",
                         sha256=chosen.sha256)  # fmt: skip
    return version(get(catalogue, template_id), number)


def retire(catalogue: Catalogue, template_id: int, number: int,
           actor: Actor) -> TemplateVersion:  # fmt: skip
    """Set a draft aside (停用): it stays in the register, and can still be activated."""
    _admin(actor)
    with catalogue.writing() as session:
        hold_in_transaction(session, LOCK)  # an activation of the same draft waits, or wins
        template = session.get(Template, template_id)
        if template is None:
            raise NotFound(f"没有编号为 {template_id} 的模板。")
        chosen = version(template, number)
        if chosen.state == ACTIVE:
            raise Conflict("使用中的版本不能停用：请先启用另一版本。", field="number")
        if chosen.state == DRAFT:
            chosen.state, chosen.retired_at = RETIRED, utcnow()
            audit.record(session, actor, "template.retire", f"{title(template)} 第 {number} 版")
    return version(get(catalogue, template_id), number)


def _active(session: Session, template_id: int) -> TemplateVersion | None:
    return session.scalar(select(TemplateVersion).where(
        TemplateVersion.template_id == template_id, TemplateVersion.state == ACTIVE))  # fmt: skip


def _add(session: Session, template: Template, data: bytes, sha256: str, *, filename: str,
         origin: str, actor: Actor, note: str | None, state: str = DRAFT,
         fixes: list[str] | None = None) -> TemplateVersion:  # fmt: skip
    last = session.scalar(select(func.max(TemplateVersion.number))
                          .where(TemplateVersion.template_id == template.id))  # fmt: skip
    number = (last or 0) + 1
    version = TemplateVersion(template_id=template.id, number=number, data=data, sha256=sha256,
                              size=len(data), filename=filename, origin=origin, state=state,
                              note=note, fixes=fixes or None, uploaded_by=actor.name)  # fmt: skip
    session.add(version)
    session.flush()
    return version


def _activate(session: Session, template: Template, chosen: TemplateVersion,
              actor: Actor) -> None:  # fmt: skip
    now = utcnow()
    current = _active(session, template.id)
    if current is not None:
        current.state, current.retired_at = RETIRED, now
        session.flush()  # before the new one is active: one active version at every moment
    chosen.state, chosen.activated_by, chosen.activated_at = ACTIVE, actor.name, now
    chosen.retired_at = None
    session.flush()

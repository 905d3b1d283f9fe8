"""The register keeps the bundled templates as version 1: documents filed before it existed
are linked to the version with their very file, and a new release's bundled file replaces a
bundled version still in use — never a wording the business uploaded."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import delete, select, update

from archive import template_register
from archive.actor import SYSTEM
from archive.core import Archive
from archive.models import Contract, Document, Template, TemplateVersion
from templates import BUNDLED
from templates.convert import Converter
from templates.render import Renderer
from tests.archive.test_old_catalogues import NOWHERE
from tests.conftest import BOTH_DATABASES
from tests.helpers import offered

pytestmark = BOTH_DATABASES


def versions(archive, title: str) -> list[tuple[int, str, str]]:
    found = {template_register.title(t): t for t in template_register.listing(archive.catalogue)}
    return [(v.number, v.state, v.origin) for v in found[title].versions]


def test_documents_filed_before_the_register_name_its_version_1(archive, create):
    contract_no = create()["contract_no"]
    with archive.catalogue.writing() as session:  # the catalogue as release 0013 left it
        session.execute(update(Document).values(template_version_id=None))
        session.execute(update(Contract).values(business_type=None))
        session.execute(delete(TemplateVersion))
        session.execute(delete(Template))

    template_register.seed(archive)

    with archive.catalogue.reading() as session:
        linked = session.scalars(
            select(Document.template_version_id)
            .join(Contract)
            .where(Contract.contract_no == contract_no, Document.kind == "sales_contract")
        ).all()
    labels = template_register.labels(archive.catalogue, set(linked))
    assert {(label.title, label.number) for label in labels.values()} == {("销售合同·设备买卖", 1)}


@pytest.fixture
def release(archive, tmp_path, monkeypatch):
    """The bundled folder of a next release (a copy to change), seen as the bundled one."""
    folder = tmp_path / "release-2"
    shutil.copytree(BUNDLED, folder)
    monkeypatch.setattr(template_register, "BUNDLED_DIR", folder)
    archive.renderer = Renderer(folder)
    return folder


def reworded(document):
    document.paragraphs[-1].insert_paragraph_before("第二版措辞。")


def test_a_new_release_replaces_bundled_versions_but_not_the_business_own(archive, release):
    own = template_register.listing(archive.catalogue)[0]  # 销售合同·设备买卖
    assert template_register.title(own) == "销售合同·设备买卖"
    uploaded = template_register.upload(archive, own.id, offered(reworded), SYSTEM)
    template_register.activate(archive.catalogue, own.id, uploaded.number, SYSTEM)

    # The next release changes the bundled sales contract and amendment.
    (release / "sales_contract.docx").write_bytes(offered(reworded))
    (release / "amendment.docx").write_bytes(offered(reworded, kind="amendment"))
    template_register.seed(archive)
    template_register.seed(archive)  # a second start changes nothing more

    assert versions(archive, "销售合同·设备买卖") == [(1, "retired", "bundled"),
                                                    (2, "active", "upload")]  # fmt: skip
    assert versions(archive, "销售合同·零部件供货") == [(1, "retired", "bundled"),
                                                      (2, "active", "bundled")]  # fmt: skip
    assert versions(archive, "补充协议") == [(1, "retired", "bundled"), (2, "active", "bundled")]
    assert versions(archive, "发货通知单") == [(1, "active", "bundled")]


def test_going_back_to_an_earlier_version_survives_a_restart_and_an_old_node(archive, release):
    notes = next(t for t in template_register.listing(archive.catalogue) if t.kind == "amendment")
    old = (release / "amendment.docx").read_bytes()
    (release / "amendment.docx").write_bytes(offered(reworded, kind="amendment"))
    template_register.seed(archive)  # the new release: version 2
    template_register.activate(archive.catalogue, notes.id, 1, SYSTEM)  # an admin goes back

    template_register.seed(archive)  # a restart of the new release
    (release / "amendment.docx").write_bytes(old)
    template_register.seed(archive)  # a node still on the old release starts

    assert versions(archive, "补充协议") == [(1, "active", "bundled"), (2, "retired", "bundled")]


def test_a_template_folder_fills_only_what_is_missing(archive, tmp_path):
    folder = tmp_path / "own"
    shutil.copytree(BUNDLED, folder)
    (folder / "amendment.docx").write_bytes(offered(reworded, kind="amendment"))
    archive.renderer = Renderer(folder)
    template_register.seed(archive)
    assert versions(archive, "补充协议") == [(1, "active", "bundled")]


def test_a_folder_s_wording_is_never_taken_for_a_release(tmp_path, database_url):
    """An archive begun from HETONG_TEMPLATE_DIR keeps that wording when a later start (or a
    shell without the setting) uses the bundled templates."""
    folder = tmp_path / "own"
    shutil.copytree(BUNDLED, folder)
    (folder / "amendment.docx").write_bytes(offered(reworded, kind="amendment"))
    nowhere = Converter(url=NOWHERE)  # nothing is converted
    archive = Archive(data_dir=tmp_path / "var", database_url=database_url,
                      renderer=Renderer(folder), converter=nowhere).open()  # fmt: skip
    try:
        assert versions(archive, "补充协议") == [(1, "active", "folder")]
        archive.renderer = Renderer()
        template_register.seed(archive)
        assert versions(archive, "补充协议") == [(1, "active", "folder")]
    finally:
        archive.close()

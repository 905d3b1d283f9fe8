"""A Word file offered as a new template version, checked before it is kept.

Everything that parses the file runs in ``templates.template_worker``, a boxed process (see
``templates.uploads``): the zip's bounds, what a template must not carry, the tags and parts
(``templates.inspection``), the fonts and a trial rendering with the hard case of its kind
(``templates.proof``). Here, the rendered trial goes through a converter worker to PDF/A, as
every document does.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field

from templates.convert import Converter
from templates.inspection import Problem, trial_convert
from templates.uploads import UploadLimits, UploadRejected, read_header, run_boxed

log = logging.getLogger(__name__)

WORKER = "templates.template_worker"

MESSAGES = {
    "empty": "文件为空。",
    "too_large": "文件过大（上限 {max_bytes}）。",
    "not_docx": "无法打开：不是 Word 文档（.docx）。",
    "members": "Word 文件的组成部分过多，文件可能被构造为耗尽资源。",
    "decompressed": "Word 文件解压后超过上限（{max_decompressed}）。",
    "macros": "文件含宏（VBA）：模板不能含宏，请在 Word 中另存为“Word 文档（*.docx）”后再上传。",
    "embedded": "文件含嵌入的对象或文档（OLE、ActiveX 控件、外部文档块）：模板不能含这些内容，"
                "请在 Word 中删除后再上传。",
    "external": "文件引用了外部内容（链接的图片、附加的模板等），转换时会去别处读取："
                "请在 Word 中改为嵌入或删除后再上传。",
    "damaged": "Word 文件已损坏，无法读取。",
    "cpu": "检查模板超时（{cpu_seconds} 秒），文件可能被构造为耗尽资源。",
    "wall": "检查模板超时（{wall_seconds} 秒），文件可能被构造为耗尽资源。",
    "memory": "检查模板所需内存超过上限。",
    "output": "检查模板的结果超过上限。",
}  # fmt: skip


class TemplateRejected(UploadRejected):
    """The file cannot be a template at all (not Word, macros, a bomb …)."""

    messages = MESSAGES


@dataclass(frozen=True)
class CheckedTemplate:
    data: bytes  # the file as it is kept (fixed where the check could fix it)
    sha256: str
    problems: list[Problem] = field(default_factory=list)  # empty: fit to be activated
    fixes: list[str] = field(default_factory=list)  # what the check changed, in Chinese


def check_template(data: bytes, kind: str, limits: UploadLimits,
                   converter: Converter | None) -> CheckedTemplate:  # fmt: skip
    """Check ``data`` as a template of ``kind``; ``converter`` converts the trial rendering."""
    if not data:
        raise TemplateRejected("empty", limits)
    if len(data) > limits.max_bytes:
        raise TemplateRejected("too_large", limits)
    if not data.startswith(b"PK"):
        raise TemplateRejected("not_docx", limits)
    returncode, out, err = run_boxed(WORKER, [kind, json.dumps(asdict(limits))], data, limits,
                                     TemplateRejected)  # fmt: skip
    header, rest = read_header(returncode, out, err, limits, TemplateRejected)
    try:
        size, sample = int(header["size"]), int(header["sample"])
        problems = [Problem(str(message), str(place)) for message, place in header["problems"]]
        fixes = [str(fix) for fix in header["fixes"]]
    except (KeyError, TypeError, ValueError):
        log.error("template worker answered malformed header %.200r", header)
        raise TemplateRejected("damaged", limits) from None
    if size + sample != len(rest) or not rest.startswith(b"PK"):
        raise TemplateRejected("damaged", limits)
    kept, rendered = rest[:size], rest[size:]
    if not problems and rendered and converter is not None:
        problems = trial_convert(rendered, kind, converter)
    digest = hashlib.sha256(kept).hexdigest()
    log.info("template upload %s as %s: %d problems, fixed %s", digest[:12], kind,
             len(problems), fixes or "nothing")  # fmt: skip
    return CheckedTemplate(kept, digest, problems, fixes)

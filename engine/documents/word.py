"""Documents as DOCX through docxtpl (a Jinja2 templating library for Word files).

The templates are Word documents holding Jinja tags. They are built here with python-docx (docxtpl's
own dependency) rather than kept as binary files: a reviewer reads the layout in this file, and a
template cannot drift from the fields the content provides. The page follows GB/T 9704 as the PDF
does (A4, 天头 37 mm, 订口 28 mm, 红色发文机关标志, 仿宋 3号正文). Values are escaped when rendered
(``autoescape``), so text an officer typed cannot inject Word XML.
"""

from __future__ import annotations

import functools
import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate

from engine.documents.content import DocumentContent

BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
RED = RGBColor(0xCC, 0x00, 0x00)


def _run(
    paragraph: Paragraph, text: str, *, size: float = 16, bold: bool = False, font: str = BODY_FONT, red: bool = False
) -> None:
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = font
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if red:
        run.font.color.rgb = RED


def _line(doc: object, text: str, *, align: WD_ALIGN_PARAGRAPH | None = None, **kw: object) -> Paragraph:
    paragraph: Paragraph = doc.add_paragraph()  # type: ignore[attr-defined]
    if align is not None:
        paragraph.alignment = align
    _run(paragraph, text, **kw)  # type: ignore[arg-type]
    return paragraph


@functools.lru_cache(maxsize=4)
def template(layout: str) -> bytes:
    """The Word template of a layout (``official``, ``sheet``, ``approval``), built once per process."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    center, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    if layout == "official":
        _line(doc, "{{ issuer }}", align=center, size=28, bold=True, font=TITLE_FONT, red=True)
        _line(doc, "{{ number }}", align=center)
        _line(doc, "", align=center)
        _line(doc, "{{ title }}", align=center, size=22, font=TITLE_FONT)
        _line(doc, "{%p if addressee %}")
        _line(doc, "{{ addressee }}：")
        _line(doc, "{%p endif %}")
        _line(doc, "{%p for row in rows %}")
        _line(doc, "\u3000\u3000{{ row.label }}：{{ row.value }}")
        _line(doc, "{%p endfor %}")
        _line(doc, "")
        _line(doc, "{{ issuer }}", align=right)
        _line(doc, "{{ date }}", align=right)
        _line(doc, "{%p if signer %}")
        _line(doc, "（电子签名：{{ signer }}  {{ signed_at }}）", align=right, size=12)
        _line(doc, "{%p endif %}")
        _line(doc, "{%p if cc %}")
        _line(doc, "抄送：{{ cc }}", size=14)
        _line(doc, "{%p endif %}")
        _line(doc, "{{ issuer }}办公室\u3000\u3000{{ date }}印发", size=14)
    else:
        _line(doc, "{{ title }}", align=center, size=22, font=TITLE_FONT)
        _line(doc, "{{ issuer }}\u3000\u3000编号：{{ number or case_key }}", size=12)
        table = doc.add_table(rows=3, cols=2)
        table.style = "Table Grid"
        table.cell(0, 0).text = "{%tr for row in rows %}"
        table.cell(1, 0).text = "{{ row.label }}"
        table.cell(1, 1).text = "{{ row.value }}"
        table.cell(2, 0).text = "{%tr endfor %}"
        _line(doc, "{%p if signer %}")
        _line(doc, "经办人签名：{{ signer }}  {{ signed_at }}", size=12)
        _line(doc, "{%p endif %}")
        if layout == "approval":
            _line(doc, "领导批示", size=14, bold=True)
            history = doc.add_table(rows=4, cols=4)
            history.style = "Table Grid"
            for i, head in enumerate(("环节", "批示意见", "签名", "日期")):
                history.cell(0, i).text = head
            history.cell(1, 0).text = "{%tr for a in approvals %}"
            for i, name in enumerate(("a.step", "a.text", "a.signer", "a.signed_at")):
                history.cell(2, i).text = "{{ " + name + " }}"
            history.cell(3, 0).text = "{%tr endfor %}"
    _line(doc, "{{ printed_by }}", size=9)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render(content: DocumentContent, *, printed_by: str) -> bytes:
    """The document as DOCX bytes, rendered from its layout's template."""
    tpl = DocxTemplate(io.BytesIO(template(content.layout)))
    context = {
        "issuer": content.issuer,
        "number": content.number,
        "case_key": content.case_key,
        "title": content.title,
        "addressee": content.addressee,
        "cc": content.cc,
        "date": content.date,
        "rows": [{"label": r.label, "value": r.value} for r in content.rows],
        "signer": content.signed.signer if content.signed else "",
        "signed_at": content.signed.signed_at if content.signed else "",
        "approvals": [
            {
                "step": a.step,
                "text": "；".join(t for t in (a.decision, a.opinion) if t) or "—",
                "signer": a.signer,
                "signed_at": a.signed_at,
            }
            for a in content.approvals
        ],
        "printed_by": printed_by,
    }
    tpl.render(context, autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()

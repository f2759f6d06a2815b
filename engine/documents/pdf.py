"""Documents as PDF (fpdf2), laid out after GB/T 9704-2012 《党政机关公文格式》 as far as a generated
file sensibly can: A4, 版心 156 × 225 mm (天头 37 mm, 订口 28 mm), a red 发文机关标志 and 发文字号
above a red 分隔线, the 标题 centred, 主送机关, 正文 in 3号 (16 pt) with two characters' indent, the
落款 (发文机关署名 and 成文日期) on the right, and the 版记 (抄送, 印发机关 and 印发日期) between rules at
the foot. 登记表 and 笔录 are a titled table of the record; a 呈批表 adds its 批示 under the request.

Chinese text needs a CJK font embedded in the file: engine/documents/fonts.py finds it. fpdf2 (with the
fontTools and Pillow it brings, about 34 MB resident) is imported only here, and this module only when a
PDF is rendered (engine/documents/operations.py), so a web process that prints nothing never holds it.
"""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from engine.documents.content import DocumentContent
from engine.documents.fonts import find_font

RED = (204, 0, 0)


class _Paper(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-20)
        self.set_font("cjk", size=9)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"— {self.page_no()} —", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if self.footer_text:
            self.cell(0, 4, self.footer_text, align="C")
        self.set_text_color(0, 0, 0)


def _paper(content: DocumentContent, printed_by: str) -> _Paper:
    font = find_font()
    pdf = _Paper(orientation="P", unit="mm", format="A4")
    pdf.footer_text = printed_by
    pdf.set_margins(left=28, top=37, right=26)
    pdf.set_auto_page_break(True, margin=30)
    pdf.add_font("cjk", "", str(font.regular), collection_font_number=font.index)
    pdf.add_font("cjk", "B", str(font.bold), collection_font_number=font.index)
    pdf.set_title(f"{content.title} {content.number}".strip())
    pdf.set_subject(content.case_key)
    pdf.set_author(content.issuer)
    pdf.set_creator("贯通 Guantong")
    pdf.add_page()
    return pdf


def _rule(pdf: FPDF, colour: tuple[int, int, int] = (0, 0, 0), width: float = 0.35) -> None:
    pdf.set_draw_color(*colour)
    pdf.set_line_width(width)
    y = pdf.get_y()
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.set_draw_color(0, 0, 0)


def _paragraph(pdf: FPDF, text: str, *, size: float = 16, indent: bool = True, bold: bool = False) -> None:
    pdf.set_font("cjk", "B" if bold else "", size)
    for line in text.splitlines() or [""]:
        pdf.multi_cell(0, size * 0.55, ("\u3000\u3000" if indent else "") + line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _official(pdf: FPDF, c: DocumentContent) -> None:
    # 版头: 发文机关标志 in red, 发文字号, the red 分隔线.
    pdf.set_text_color(*RED)
    pdf.set_font("cjk", "B", 28)
    pdf.cell(0, 16, c.issuer, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(6)
    pdf.set_font("cjk", "", 16)
    pdf.cell(0, 9, c.number, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    _rule(pdf, RED, 0.8)
    pdf.ln(10)
    # 主体: 标题, 主送机关, 正文.
    pdf.set_font("cjk", "B", 22)
    pdf.multi_cell(0, 12, c.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    if c.addressee:
        _paragraph(pdf, f"{c.addressee}：", indent=False)
    for row in c.rows:
        if row.multiline:
            _paragraph(pdf, f"{row.label}：", bold=True)
            _paragraph(pdf, row.value)
        else:
            _paragraph(pdf, f"{row.label}：{row.value}")
    # 落款: 发文机关署名 and 成文日期, right-aligned; who signed it in the system.
    pdf.ln(12)
    pdf.set_font("cjk", "", 16)
    pdf.cell(0, 9, c.issuer, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 9, c.date, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if c.signed:
        pdf.set_font("cjk", "", 12)
        pdf.cell(
            0,
            8,
            f"（电子签名：{c.signed.signer}  {c.signed.signed_at}）",
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    # 版记: 抄送, 印发机关和印发日期, between rules.
    pdf.ln(10)
    _rule(pdf)
    pdf.ln(1)
    pdf.set_font("cjk", "", 14)
    if c.cc:
        pdf.multi_cell(0, 8, f"抄送：{c.cc}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        _rule(pdf, width=0.2)
        pdf.ln(1)
    pdf.cell(0, 8, f"{c.issuer}办公室", new_x=XPos.END, new_y=YPos.TOP)
    pdf.cell(0, 8, f"{c.date}印发", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _rule(pdf)


def _table(pdf: FPDF, rows: Sequence[tuple[str, ...]], widths: tuple[int, ...] = (40, 116)) -> None:
    pdf.set_font("cjk", "", 12)
    with pdf.table(col_widths=widths, first_row_as_headings=False, line_height=7, text_align="LEFT") as table:
        for cells in rows:
            row = table.row()
            for text in cells:
                row.cell(text)


def _sheet(pdf: FPDF, c: DocumentContent) -> None:
    pdf.set_font("cjk", "B", 22)
    pdf.multi_cell(0, 12, c.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", "", 12)
    pdf.cell(0, 8, c.issuer, new_x=XPos.END, new_y=YPos.TOP)
    pdf.cell(0, 8, f"编号：{c.number or c.case_key}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    rows = [(r.label, r.value) for r in c.rows]
    if c.addressee:
        rows.insert(0, ("主送", c.addressee))
    if c.signed:
        rows.append(("经办人签名", f"{c.signed.signer}  {c.signed.signed_at}"))
    _table(pdf, rows)
    if c.layout == "approval":
        pdf.ln(6)
        pdf.set_font("cjk", "B", 14)
        pdf.cell(0, 9, "领导批示", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        history = [("环节", "批示意见", "签名", "日期")]
        history += [
            (a.step, "；".join(t for t in (a.decision, a.opinion) if t) or "—", a.signer, a.signed_at)
            for a in c.approvals
        ]
        if not c.approvals:
            history.append(("—", "尚无批示", "", ""))
        _table(pdf, history, widths=(36, 70, 25, 25))


def render(content: DocumentContent, *, printed_by: str) -> bytes:
    """The document as PDF bytes; ``printed_by`` goes in every page's foot (who took it out, when)."""
    pdf = _paper(content, printed_by)
    if content.layout == "official":
        _official(pdf, content)
    else:
        _sheet(pdf, content)
    return bytes(pdf.output())

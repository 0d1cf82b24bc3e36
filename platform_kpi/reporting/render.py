"""The three renderings of one list of report blocks: Markdown, HTML (charts inlined) and PDF (fpdf2).
User data in the blocks is plain text and is escaped here for each format."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from platform_kpi.markup import md_escape, report_tokens
from platform_kpi.reporting.blocks import Block


def render_markdown(blocks: list[Block], chart_dir_name: str = "charts") -> str:
    """Paragraphs and bullets are report text already (Markdown, names escaped); headings, table cells
    and captions are plain text and are escaped here."""
    lines: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            lines += ["#" * b.level + " " + md_escape(b.text), ""]
        elif b.kind == "paragraph":
            lines += [b.text, ""]
        elif b.kind == "bullets":
            lines += [f"- {item}" for item in b.items] + [""]
        elif b.kind == "table":
            lines.append("| " + " | ".join(md_escape(h) for h in b.header) + " |")
            lines.append("|" + "---|" * len(b.header))
            lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in b.rows]
            lines.append("")
        elif b.kind == "image" and b.image is not None:
            lines += [f"![{md_escape(b.text)}]({chart_dir_name}/{b.image.name})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _inline_html(text: str) -> str:
    """Report text (its own **bold**, escaped names) as HTML: every character of a name is text."""
    out, bold = [], False
    for kind, value in report_tokens(text):
        if kind == "bold":
            out.append("</strong>" if bold else "<strong>")
            bold = not bold
        else:
            out.append(html.escape(value))
    return "".join(out) + ("</strong>" if bold else "")


def _pdf_markdown(text: str) -> str:
    """Report text in fpdf2's markdown: the report's **bold** stays, a name's markers are escaped."""
    out = []
    for kind, value in report_tokens(text):
        if kind == "bold":
            out.append("**")
        else:
            plain = value.replace("\\", "\\\\")
            out.append(re.sub(r"(\*\*|__|~~|--)", r"\\\1", plain))
    return "".join(out)


def render_html(blocks: list[Block], title: str) -> str:
    """A self-contained page (charts embedded), readable in a mail client."""
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:62rem;margin:2rem auto;"
        "padding:0 1rem;color:#1f2937;line-height:1.45}h1{color:#111827}h2{border-bottom:2px solid #e5e7eb;"
        "padding-bottom:.2rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}"
        "td,th{border:1px solid #e5e7eb;padding:.3rem .6rem;text-align:left}th{background:#f3f4f6}"
        "img{max-width:100%;border:1px solid #f3f4f6}figcaption{color:#6b7280;font-size:.85rem}</style>"
        "</head><body>",
    ]
    for b in blocks:
        if b.kind == "heading":
            out.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif b.kind == "paragraph":
            out.append(f"<p>{_inline_html(b.text)}</p>")
        elif b.kind == "bullets":
            out.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            out.append(
                "<table><tr>"
                + "".join(f"<th>{html.escape(h)}</th>" for h in b.header)
                + "</tr>"
                + "".join(
                    "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in b.rows
                )
                + "</table>"
            )
        elif b.kind == "image" and b.image is not None:
            data = base64.b64encode(b.image.read_bytes()).decode()
            out.append(
                f"<figure><img alt='{html.escape(b.text)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(b.text)}</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out)


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def render_pdf(blocks: list[Block], path: Path, title: str) -> None:
    """An A4 PDF (fpdf2) of the blocks, with a Unicode font shipped by matplotlib."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    # fpdf2's markdown turns [text](url) into a link; the report has none of its own, so a name never does
    pdf.MARKDOWN_LINK_REGEX = re.compile(r"(?!)")
    pdf.set_title(title)
    pdf.set_author("Platform KPI pipeline")
    fonts = _font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)

    def footer() -> None:
        pdf.set_y(-12)
        pdf.set_font("DejaVu", "", 7)
        pdf.set_text_color(120, 120, 120)
        pdf.cell(0, 5, f"{title} · page {pdf.page_no()}", align="C")
        pdf.set_text_color(31, 41, 55)

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.add_page()
    pdf.set_text_color(31, 41, 55)
    width = pdf.epw
    for b in blocks:
        if b.kind == "heading":
            size = {1: 18, 2: 14, 3: 11}.get(b.level, 11)
            if (b.level == 2 and pdf.get_y() > 230) or (b.level == 3 and pdf.get_y() > 225):
                pdf.add_page()  # keep a heading with what follows it
            pdf.ln(3 if b.level > 1 else 0)
            pdf.set_font("DejaVu", "B", size)
            pdf.multi_cell(width, size * 0.5, b.text, new_x="LMARGIN", new_y="NEXT")
            if b.level == 2:
                pdf.set_draw_color(229, 231, 235)
                pdf.line(pdf.l_margin, pdf.get_y() + 0.5, pdf.l_margin + width, pdf.get_y() + 0.5)
            pdf.ln(2)
        elif b.kind == "paragraph":
            pdf.set_font("DejaVu", "", 9)
            pdf.multi_cell(width, 4.6, _pdf_markdown(b.text), markdown=True, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        elif b.kind == "bullets":
            pdf.set_font("DejaVu", "", 9)
            for item in b.items:
                pdf.set_x(pdf.l_margin + 2)
                pdf.multi_cell(
                    width - 2, 4.6, f"•  {_pdf_markdown(item)}", markdown=True, new_x="LMARGIN", new_y="NEXT"
                )
                pdf.ln(0.8)
            pdf.ln(1)
        elif b.kind == "table":
            pdf.set_font("DejaVu", "", 7.5)
            headings = FontFace(emphasis="BOLD", fill_color=(243, 244, 246))
            widths = (3.2, *([1.4] * (len(b.header) - 1))) if len(b.header) > 3 else None
            with pdf.table(
                col_widths=widths,
                headings_style=headings,
                line_height=4.2,
                borders_layout="HORIZONTAL_LINES",
                text_align="LEFT",
                first_row_as_headings=True,
                padding=1,
            ) as table:
                for row in [b.header, *b.rows]:
                    cells = table.row()
                    for c in row:
                        cells.cell(c)
            pdf.ln(2)
        elif b.kind == "image" and b.image is not None:
            from PIL import Image

            with Image.open(b.image) as im:
                w, h = im.size
            img_w = width
            img_h = img_w * h / w
            if pdf.get_y() + img_h > pdf.h - 18:
                pdf.add_page()
            pdf.image(str(b.image), w=img_w)
            pdf.set_font("DejaVu", "", 7.5)
            pdf.set_text_color(107, 114, 128)
            pdf.multi_cell(width, 4, b.text, new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(31, 41, 55)
            pdf.ln(2)
    pdf.output(str(path))

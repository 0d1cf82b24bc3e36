"""User data (team, service, repo, environment names; anything read from an input file) shown inside
Markdown as exactly the text it is: never a link, an image, bold or HTML.

The dashboard writes Markdown through Streamlit and the monthly report writes Markdown, HTML and a PDF
from Markdown-like text; a name such as ``[click](https://example.com)`` must reach every one of them
as text. Pure Python: the dashboard and the report both use it.
"""

from __future__ import annotations

import re

# Inline Markdown (CommonMark + GFM + Streamlit's extras) acts on these anywhere in a line: emphasis,
# code, links and images, raw HTML and entities, strikethrough, table cells, math. Backslash-escaping
# them is valid CommonMark for any ASCII punctuation, so a reader shows the character.
_ALWAYS = re.compile(r"([\\`*_\[\]<>~|$&])")
# GFM links bare "https://…", "www.…" and "name@host.tld" after parsing, on the text itself, so an escape
# does not stop it; an invisible zero-width space inside the pattern does.
ZWSP = "\u200b"
_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9]:)(?=//)|(?<=\b[wW]{3})(?=\.)|(?=@)")


def md_escape(text: object) -> str:
    """``text`` as Markdown that renders as itself, on one line (a bare URL or e-mail address in it
    carries an invisible zero-width space, so it is not made a link)."""
    flat = " ".join(str(text).split())  # a line break would start a new block (a heading, a list)
    return _AUTOLINK.sub(ZWSP, _ALWAYS.sub(r"\\\1", flat))


def md_code(text: object) -> str:
    """``text`` as an inline code span (shown verbatim in a monospace font)."""
    flat = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


# Report text is Markdown with two constructs only: **bold** (the report's own emphasis) and
# backslash escapes (md_escape'd names). Tokens of that subset, for renderers other than Markdown.
_TOKENS = re.compile(r"(\\[!-/:-@\[-`{-~]|\*\*)")


def report_tokens(text: str) -> list[tuple[str, str]]:
    """Split report text into ("bold", "") toggles and ("text", plain) runs, escapes resolved."""
    out: list[tuple[str, str]] = []
    for part in _TOKENS.split(text):
        if not part:
            continue
        if part == "**":
            out.append(("bold", ""))
        else:
            plain = part[1] if len(part) == 2 and part[0] == "\\" and _TOKENS.fullmatch(part) else part
            plain = plain.replace(ZWSP, "")  # only md_escape puts one there
            if out and out[-1][0] == "text":
                out[-1] = ("text", out[-1][1] + plain)
            else:
                out.append(("text", plain))
    return out

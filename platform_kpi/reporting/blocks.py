"""A report as a list of blocks (headings, paragraphs, bullets, tables, images) that every renderer
(Markdown, HTML, PDF) draws the same way; sections such as costs return blocks too."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Block:
    kind: str  # heading | paragraph | bullets | table | image
    text: str = ""
    level: int = 2
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    image: Path | None = None

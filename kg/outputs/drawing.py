"""A small deterministic drawing: rectangles, lines and text, written as SVG and as PNG.

The build's figures are bar charts and labelled grids (`kg.outputs.reports`); this draws them in
milliseconds where matplotlib took seconds (decision 26). Coordinates are in CSS pixels with y
downwards; the PNG is drawn at `SCALE` times that size with Pillow, the SVG is text. Both come
out byte-identical for the same drawing (no dates, no generated ids), and text is measured with
the font the PNG is drawn with (Pillow's own scalable default font, so no system font is
needed), which the SVG names first in its font list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

Anchor = Literal["start", "middle", "end"]

SCALE = 2  # PNG pixels per drawing unit (about matplotlib's 150 dpi at 1 unit = 1 pt)
FONT_FAMILY = "Aileron, Helvetica, Arial, sans-serif"  # Pillow's default font is Aileron
LINE_HEIGHT = 1.2  # of the font size, between the lines of a multi-line text


@lru_cache(maxsize=64)
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=pixels)


def text_width(text: str, size: float) -> float:
    """The width of the widest line of `text` at font size `size`, in drawing units."""
    font = _font(max(1, round(size * SCALE)))
    return max(font.getlength(line) for line in text.split("\n")) / SCALE


def escape(text: str) -> str:
    """Text for SVG content and double-quoted attributes (xml.sax.saxutils would import
    urllib.request and http.client: a fifth of the figures' time on the paper)."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _num(v: float) -> str:
    """A coordinate for the SVG: at most two decimals, no trailing zeros (stable text)."""
    return f"{v:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class _Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str | None  # None: the outline only
    stroke: str | None


@dataclass(frozen=True)
class _Line:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str
    width: float


@dataclass(frozen=True)
class _Text:
    x: float
    y: float  # the middle of the text block, vertically
    text: str
    size: float
    anchor: Anchor
    colour: str
    bold: bool


@dataclass
class Drawing:
    """A figure on white, with a title for the SVG. Its size is what its items cover plus a
    margin (`fit`), so a caller never computes a bounding box."""

    title: str = ""
    items: list[_Rect | _Line | _Text] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0

    def fit(self, margin: float) -> None:
        """Move the items so that they start `margin` from the top left, and size the
        drawing to cover them with `margin` to spare."""
        boxes = [_box(item) for item in self.items]
        if not boxes:
            self.width = self.height = 2 * margin
            return
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        dx, dy = margin - x0, margin - y0
        self.items = [_moved(item, dx, dy) for item in self.items]
        self.width, self.height = x1 - x0 + 2 * margin, y1 - y0 + 2 * margin

    def rect(
        self, x: float, y: float, w: float, h: float, fill: str | None, stroke: str | None = None
    ) -> None:
        self.items.append(_Rect(x, y, w, h, fill, stroke))

    def line(
        self, x1: float, y1: float, x2: float, y2: float, colour: str = "#000", width: float = 1
    ) -> None:
        self.items.append(_Line(x1, y1, x2, y2, colour, width))

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        anchor: Anchor = "start",
        colour: str = "#000",
        *,
        bold: bool = False,
    ) -> None:
        """Text whose block of lines ('\\n' separated) is centred vertically on `y`."""
        self.items.append(_Text(x, y, text, size, anchor, colour, bold))

    def svg(self) -> str:
        w, h = _num(self.width), _num(self.height)
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="{escape(FONT_FAMILY)}">',
            f"<title>{escape(self.title)}</title>",
            f'<rect width="{w}" height="{h}" fill="#fff"/>',
        ]
        for item in self.items:
            if isinstance(item, _Rect):
                stroke = f' stroke="{item.stroke}" stroke-width="0.5"' if item.stroke else ""
                out.append(
                    f'<rect x="{_num(item.x)}" y="{_num(item.y)}" width="{_num(item.w)}" '
                    f'height="{_num(item.h)}" fill="{item.fill or "none"}"{stroke}/>'
                )
            elif isinstance(item, _Line):
                out.append(
                    f'<line x1="{_num(item.x1)}" y1="{_num(item.y1)}" x2="{_num(item.x2)}" '
                    f'y2="{_num(item.y2)}" stroke="{item.colour}" '
                    f'stroke-width="{_num(item.width)}"/>'
                )
            else:
                weight = ' font-weight="bold"' if item.bold else ""
                for y, line in _lines(item):
                    out.append(
                        f'<text x="{_num(item.x)}" y="{_num(y)}" font-size="{_num(item.size)}" '
                        f'text-anchor="{item.anchor}" dominant-baseline="central" '
                        f'fill="{item.colour}"{weight}>{escape(line)}</text>'
                    )
        out.append("</svg>\n")
        return "\n".join(out)

    def png(self, path: Path) -> None:
        s = SCALE
        image = Image.new("RGB", (math.ceil(self.width * s), math.ceil(self.height * s)), "#fff")
        draw = ImageDraw.Draw(image)
        for item in self.items:
            if isinstance(item, _Rect):
                x0, y0 = item.x * s, item.y * s
                # at least one pixel: a band's share of 1 in 1,000 is narrower than that
                x1, y1 = max(x0, (item.x + item.w) * s - 1), max(y0, (item.y + item.h) * s - 1)
                draw.rectangle((x0, y0, x1, y1), fill=item.fill, outline=item.stroke)
            elif isinstance(item, _Line):
                ends = (item.x1 * s, item.y1 * s, item.x2 * s, item.y2 * s)
                draw.line(ends, fill=item.colour, width=max(1, round(item.width * s)))
            else:
                font = _font(max(1, round(item.size * s)))
                anchor = {"start": "lm", "middle": "mm", "end": "rm"}[item.anchor]
                for y, line in _lines(item):
                    draw.text(
                        (item.x * s, y * s),
                        line,
                        fill=item.colour,
                        font=font,
                        anchor=anchor,
                        stroke_width=1 if item.bold else 0,
                        stroke_fill=item.colour,
                    )
        image.save(path, format="PNG")

    def save(self, path: Path, margin: float = 10.0) -> list[Path]:
        """Fit the drawing (`fit`) and write `path` with .png and .svg suffixes; returns the
        two paths."""
        self.fit(margin)
        png, svg = path.with_suffix(".png"), path.with_suffix(".svg")
        self.png(png)
        svg.write_text(self.svg(), encoding="utf-8")
        return [png, svg]


def _lines(item: _Text) -> list[tuple[float, str]]:
    """Each line of a text with the y of its middle, the block centred on the text's y."""
    lines = item.text.split("\n")
    step = item.size * LINE_HEIGHT
    top = item.y - step * (len(lines) - 1) / 2
    return [(top + i * step, line) for i, line in enumerate(lines)]


def _box(item: _Rect | _Line | _Text) -> tuple[float, float, float, float]:
    """The item's extent: left, top, right, bottom."""
    if isinstance(item, _Rect):
        return item.x, item.y, item.x + item.w, item.y + item.h
    if isinstance(item, _Line):
        half = item.width / 2
        return (
            min(item.x1, item.x2) - half,
            min(item.y1, item.y2) - half,
            max(item.x1, item.x2) + half,
            max(item.y1, item.y2) + half,
        )
    w = text_width(item.text, item.size)
    left = {"start": item.x, "middle": item.x - w / 2, "end": item.x - w}[item.anchor]
    half = item.size * LINE_HEIGHT * (item.text.count("\n") + 1) / 2
    return left, item.y - half, left + w, item.y + half


def _moved(item: _Rect | _Line | _Text, dx: float, dy: float) -> _Rect | _Line | _Text:
    if isinstance(item, _Rect):
        return replace(item, x=item.x + dx, y=item.y + dy)
    if isinstance(item, _Line):
        return replace(item, x1=item.x1 + dx, y1=item.y1 + dy, x2=item.x2 + dx, y2=item.y2 + dy)
    return replace(item, x=item.x + dx, y=item.y + dy)

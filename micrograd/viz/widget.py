"""A stepping control for Jupyter built only from parts an untrusted notebook keeps.

An untrusted notebook's sanitizer removes scripts, `<style>` blocks, inline `<svg>` and the
`name` of radio buttons, but keeps `<details>`, `<summary>`, `<img>` with a data: URI and inline
`style` attributes. So each frame is an `<img>` of its SVG, and the frames sit in nested
`<details>`: opening step k's `<summary>` shows frame k on top of frame k-1 (same place, same
size, later in the page so painted over it), closing it goes back. The summaries form a strip of
tabs, ▸ closed (the next step) and ▾ open (steps taken); the frame shown is the last open one.
Rendering the frames lives in `steps`.
"""

from __future__ import annotations

import base64
import html
import itertools
import re
import uuid

_SIZE = re.compile(r'<svg[^>]*?width="([\d.]+)(pt|px)?"[^>]*?height="([\d.]+)(pt|px)?"', re.DOTALL)
MAX_WIDTH = 860
"""Frames wider than this many CSS pixels are scaled down to fit a notebook's width."""
_TAB_WIDTH, _TAB_HEIGHT = 70, 24
_counter = itertools.count(1)


def svg_size(svg: str) -> tuple[float, float]:
    """(width, height) of an SVG in CSS pixels, read from its root element."""
    found = _SIZE.search(svg)
    if found is None:
        raise ValueError("the SVG has no width and height on its root element")
    scale = 4 / 3  # 1 pt = 4/3 CSS px
    w = float(found.group(1)) * (scale if found.group(2) in (None, "pt") else 1)
    h = float(found.group(3)) * (scale if found.group(4) in (None, "pt") else 1)
    return w, h


def data_uri(svg: str) -> str:
    """An SVG as a data: URI for `<img src=...>`."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def stepper_html(svgs: list[str], key: str | None = None) -> str:
    """One HTML block showing `svgs` one at a time, stepped by a strip of ▸/▾ tabs."""
    if not svgs:
        return "<p>No backward steps: the graph has no op nodes.</p>"
    # A fresh id per display: two displays of one viewer in a notebook stay independent.
    key = key or f"mg-steps-{uuid.uuid4().hex[:8]}-{next(_counter)}"
    width, height = svg_size(svgs[0])
    scale = min(1.0, MAX_WIDTH / width)
    shown_w, shown_h = round(width * scale), round(height * scale)
    count = len(svgs)
    box_w = max(shown_w, 8 * _TAB_WIDTH)
    per_row = max(1, box_w // _TAB_WIDTH)
    rows = -(-count // per_row)
    top = rows * _TAB_HEIGHT + 24
    help_text = (
        f"{count} steps: ▶ opens the next step, an open ▼ tab goes back to the step before it"
    )

    def tab_style(k: int) -> str:
        row, column = divmod(k, per_row)
        return (
            f"position:absolute; top:{row * _TAB_HEIGHT}px; left:{column * _TAB_WIDTH}px; "
            f"width:{_TAB_WIDTH - 8}px; cursor:pointer; font:12px sans-serif; "
            "color:#222; background:#eeeeee; border:1px solid #999999; border-radius:3px; "
            "padding:1px 2px;"
        )

    def frame(k: int) -> str:
        alt = f"backward step {k + 1} of {count}"
        return (
            f'<img class="mg-frame" data-step="{k + 1}" alt="{alt}" src="{data_uri(svgs[k])}" '
            f'width="{shown_w}" height="{shown_h}" style="position:absolute; top:{top}px; '
            f'left:0px; width:{shown_w}px; height:{shown_h}px; background:white; max-width:none;">'
        )

    inner = ""
    for k in reversed(range(1, count)):
        inner = (
            f'<details class="mg-step" data-step="{k + 1}">'
            f'<summary class="mg-next" style="{tab_style(k)}">step {k + 1}</summary>'
            f"{frame(k)}{inner}</details>"
        )
    first = f'<span class="mg-first" style="{tab_style(0)}">step 1</span>'
    return (
        f'<div class="mg-stepper" id="{key}" style="position:relative; width:{box_w}px; '
        f'height:{top + shown_h}px; background:white; color:#222; padding:4px;">'
        f'<div style="position:absolute; top:{rows * _TAB_HEIGHT + 4}px; left:0px; '
        f"width:{box_w}px; white-space:nowrap; overflow:hidden; font:12px sans-serif; "
        f'color:#222;">{html.escape(help_text)}</div>'
        f"{first}{frame(0)}{inner}</div>"
    )

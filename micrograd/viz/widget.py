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
"""Frames wider than this many CSS pixels are scaled down to fit a notebook's width..."""
MIN_SCALE = 0.75
"""...but not below this scale, where text gets too small to read: wider frames scroll."""
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
    """One HTML block showing `svgs` one at a time, stepped by a strip of ▶/▼ tabs."""
    if not svgs:
        return "<p>No backward steps: the graph has no op nodes.</p>"
    # A fresh id per display: two displays of one viewer in a notebook stay independent.
    key = key or f"mg-steps-{uuid.uuid4().hex[:8]}-{next(_counter)}"
    width, height = svg_size(svgs[0])
    # Fit the notebook's width, but never shrink text below MIN_SCALE: past that the frames
    # scroll sideways under a tab strip that stays put.
    scale = min(1.0, max(MAX_WIDTH / width, MIN_SCALE))
    shown_w, shown_h = round(width * scale), round(height * scale)
    count = len(svgs)
    strip_w = min(max(shown_w, 8 * _TAB_WIDTH), MAX_WIDTH)
    per_row = max(1, strip_w // _TAB_WIDTH)
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
        # In normal flow, each frame pulled up over the one before: later frames paint on top.
        pull = "0" if k == 0 else f"-{shown_h}px"
        return (
            f'<img class="mg-frame" alt="backward step {k + 1} of {count}" '
            f'src="{data_uri(svgs[k])}" width="{shown_w}" height="{shown_h}" '
            f'style="display:block; margin:{pull} 0px 0px 0px; width:{shown_w}px; '
            f'height:{shown_h}px; max-width:none; background:white;">'
        )

    inner = ""
    for k in reversed(range(1, count)):
        inner = (
            f'<details class="mg-step" style="display:block; margin:0px; padding:0px;">'
            f'<summary class="mg-next" style="{tab_style(k)}">step {k + 1}</summary>'
            f"{frame(k)}{inner}</details>"
        )
    first = f'<span class="mg-first" style="{tab_style(0)}">step 1</span>'
    # The tabs are placed against the outer box (positioned), the frames scroll inside the
    # inner one (not positioned), so scrolling a wide frame leaves the tabs where they are.
    return (
        f'<div class="mg-stepper" id="{key}" style="position:relative; max-width:100%; '
        f'background:white; color:#222; padding:4px;">'
        f'<div style="position:absolute; top:{rows * _TAB_HEIGHT + 4}px; left:0px; '
        f'white-space:nowrap; font:12px sans-serif; color:#222;">{html.escape(help_text)}</div>'
        f"{first}"
        f'<div style="margin-top:{top}px; overflow-x:auto; overflow-y:hidden; max-width:100%;">'
        f"{frame(0)}{inner}</div></div>"
    )

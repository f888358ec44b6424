"""A stepping control for Jupyter built only from parts an untrusted notebook keeps.

An untrusted notebook's sanitizer removes scripts, `<style>` blocks, inline `<svg>` and the
`name` of radio buttons, but keeps `<details>`, `<summary>`, `<img>` with a data: URI and inline
`style` attributes. So each frame is an `<img>` of its SVG, and the frames sit in nested
`<details>`: opening step k's `<summary>` shows frame k on top of frame k-1 (same place, same
size, later in the page so painted over it), closing it goes back. The summaries form a strip of
tabs, ▶ closed (the next step) and ▼ open (steps taken); the frame shown is the last open one.
The frames scale with the column they are shown in (up to their own width), and the tabs undo
what a docs theme does to `<details>`, both with inline styles only. Rendering the frames lives
in `steps`.
"""

from __future__ import annotations

import base64
import html
import itertools
import re
import uuid

_SIZE = re.compile(r'<svg[^>]*?width="([\d.]+)(pt|px)?"[^>]*?height="([\d.]+)(pt|px)?"', re.DOTALL)
TABS_PER_ROW = 6
"""Tabs in a row of the strip: 6 of `_TAB_WIDTH` fit the docs site's column (572 px at 1366)."""
_TAB_WIDTH, _TAB_HEIGHT = 84, 24
_counter = itertools.count(1)
# What a docs theme's rules for <details> and <summary> set (Material for MkDocs draws them as
# boxed admonitions: border, shadow, padding, an icon in ::before, a chevron in ::after), undone
# inline, where no stylesheet rule can win. Its ::before icon and ::after chevron are painted
# through masks named by custom properties, set here to a transparent image, so they paint
# nothing; `display:list-item` brings back the browser's ▶/▼ marker, which says open or closed.
_DETAILS = (
    "display:block; margin:0px; padding:0px; border:0px; border-radius:0px; box-shadow:none; "
    "background:none; overflow:visible; font-size:12px;"
)
_SUMMARY = (
    "--md-admonition-icon--note:linear-gradient(transparent,transparent); "
    "--md-details-icon:linear-gradient(transparent,transparent); display:list-item; "
    "box-sizing:border-box; min-height:0px; margin:0px; cursor:pointer; font:12px sans-serif; "
    "color:#222; background:#eeeeee; border:1px solid #999999; border-radius:3px; padding:1px 2px;"
)


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
    """One HTML block showing `svgs` one at a time, stepped by a strip of tabs.

    The frames are as wide as the column, up to their own width: in a narrow column (a docs
    site's) the whole frame shows, scaled down, so the highlighted node is never scrolled out
    of view; in a notebook's column a frame of up to about 950 px shows at full size.
    """
    if not svgs:
        return "<p>No backward steps: the graph has no op nodes.</p>"
    # A fresh id per display: two displays of one viewer in a notebook stay independent.
    key = key or f"mg-steps-{uuid.uuid4().hex[:8]}-{next(_counter)}"
    width, height = svg_size(svgs[0])
    shown_w, shown_h = round(width), round(height)
    count = len(svgs)
    per_row = min(count, TABS_PER_ROW)
    rows = -(-count // per_row)
    top = rows * _TAB_HEIGHT + 24
    help_text = f"{count} steps: a closed tab opens the next step, an open one goes back"
    # Each frame is pulled up over the one before (later frames paint on top) by a margin in %
    # of the width, which scales with the frame: a percentage margin is of the box's width.
    pull = f"-{100 * height / width:.4f}%"

    def tab_style(k: int) -> str:
        row, column = divmod(k, per_row)
        return (
            f"position:absolute; top:{row * _TAB_HEIGHT}px; left:{column * _TAB_WIDTH}px; "
            f"width:{_TAB_WIDTH - 6}px; "
        )

    def frame(k: int) -> str:
        return (
            f'<img class="mg-frame" alt="backward step {k + 1} of {count}" '
            f'src="{data_uri(svgs[k])}" width="{shown_w}" height="{shown_h}" '
            f'style="display:block; margin:{"0px" if k == 0 else pull} 0px 0px 0px; '
            'width:100%; height:auto; max-width:100%; border:0px; background:white;">'
        )

    inner = ""
    for k in reversed(range(1, count)):
        inner = (
            f'<details class="mg-step" style="{_DETAILS}">'
            f'<summary class="mg-next" style="{tab_style(k)}{_SUMMARY}">step {k + 1}</summary>'
            f"{frame(k)}{inner}</details>"
        )
    first = f'<span class="mg-first" style="{tab_style(0)}{_SUMMARY}">step 1</span>'
    # The tabs are placed against the outer box (positioned); the frames fill the inner box,
    # which is as wide as the column or the frames' own width, whichever is less.
    return (
        f'<div class="mg-stepper" id="{key}" style="position:relative; '
        f"max-width:{max(shown_w, per_row * _TAB_WIDTH)}px; "
        'background:white; color:#222; padding:4px; box-sizing:border-box;">'
        f'<div style="position:absolute; top:{rows * _TAB_HEIGHT + 4}px; left:4px; '
        f'font:12px sans-serif; color:#222;">{html.escape(help_text)}</div>'
        f"{first}"
        f'<div class="mg-frames" style="margin-top:{top}px; max-width:{shown_w}px;">'
        f"{frame(0)}{inner}</div></div>"
    )

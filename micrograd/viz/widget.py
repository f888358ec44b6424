"""A stepping control for Jupyter made of HTML and CSS only: no JavaScript, no ipywidgets.

Each frame is an inline SVG next to a hidden radio button; CSS shows the frame whose button is
checked, and the "previous"/"next" links and the numbered strip are labels for those buttons. It
works in untrusted notebooks too, where scripts in outputs do not run. Rendering the frames lives
in `steps`.
"""

from __future__ import annotations

import hashlib
import re

_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)


def stepper_html(svgs: list[str]) -> str:
    """One HTML block showing `svgs` one at a time, with previous/next and numbered controls."""
    if not svgs:
        return "<p>No backward steps: the graph has no op nodes.</p>"
    # An id from the content keeps steppers of different graphs in one notebook apart, and
    # re-running a notebook reproduces the same HTML (committed outputs do not churn).
    key = "mg" + hashlib.sha1("".join(svgs).encode()).hexdigest()[:10]
    count = len(svgs)
    css = [
        f"#{key} .mg-frame {{display: none;}}",
        f"#{key} input {{display: none;}}",
        f"#{key} label {{cursor: pointer; padding: 1px 6px; border: 1px solid #bbb; "
        "border-radius: 3px; margin: 1px; display: inline-block; font: 12px sans-serif;}",
    ]
    radios, frames, strip = [], [], []
    for k, svg in enumerate(svgs):
        rid = f"{key}-{k}"
        checked = " checked" if k == 0 else ""
        radios.append(f'<input type="radio" name="{key}" id="{rid}"{checked}>')
        css.append(f"#{rid}:checked ~ .mg-f{k} {{display: block;}}")
        css.append(f"#{rid}:checked ~ .mg-strip label[for={rid}] {{background: #ffd6d6;}}")
        previous = f'<label for="{key}-{k - 1}">&#9664; previous</label>' if k else ""
        following = f'<label for="{key}-{k + 1}">next &#9654;</label>' if k + 1 < count else ""
        frames.append(
            f'<div class="mg-frame mg-f{k}"><div>{previous} step {k + 1} of {count} '
            f"{following}</div>{_PROLOGUE.sub('', svg, count=1)}</div>"
        )
        strip.append(f'<label for="{rid}">{k + 1}</label>')
    return (
        f'<div id="{key}"><style>{" ".join(css)}</style>{"".join(radios)}'
        f'<div class="mg-strip">{"".join(strip)}</div>{"".join(frames)}</div>'
    )

"""`python -m micrograd draw EXPR --set a=2 ... -o graph.svg`: render an expression's graph.

The expression is parsed by `micrograd.expr` (never `eval`), run forward and backward, and drawn
by `micrograd.viz`; `--steps DIR` also writes one frame per backward step. Errors are one line on
stderr and exit code 1. Everything printed is passed through `printable`, so no text from the
command line or the file system reaches the terminal as a control character. An expression may
start with `-` (`"-a*2"`); only one starting with `-o` or `-h` must be written another way
(`"(-o*2)"`, `-- "-o*2"`). Drawing options beyond these (models, clusters) are in the Python API.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from pathlib import Path
from typing import TextIO

from micrograd.cli.terminal import printable
from micrograd.engine import Value
from micrograd.expr import (
    ExpressionError,
    evaluate,
    listed_functions,
    names_used,
    parse,
    parse_binding,
)
from micrograd.viz import BACKENDS, GraphTooLargeError, RenderError, backward_steps, draw_dot


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `draw` command."""
    parser = subparsers.add_parser(
        "draw",
        help="draw the graph of an expression after its backward pass",
        description="Parse an expression safely (numbers, + - * / **, and calls to "
        f"{listed_functions()}), bind its names with --set, run backward() and draw the graph "
        "with every value's data and grad.",
        epilog='example: python -m micrograd draw "tanh(a*b + c)" --set a=2 b=-3 c=10 '
        "-o graph.svg --steps steps/",
    )
    parser.add_argument("expression", help='the expression, quoted: "tanh(a*b + c)"')
    parser.add_argument(
        "--set",
        dest="bindings",
        metavar="NAME=NUMBER",
        nargs="+",
        action="extend",
        default=[],
        help="values of the names in the expression, e.g. --set a=2 b=-3",
    )
    parser.add_argument(
        "-o", "--output", required=True, help="image file; its suffix picks the format (.svg, .png)"
    )
    parser.add_argument("--steps", metavar="DIR", help="also write one frame per backward step")
    parser.add_argument(
        "--steps-format",
        default="svg",
        help="image format of the frames, all one size with nodes in place (default: svg)",
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, help="Graphviz program to use (default: the first found)"
    )
    parser.add_argument(
        "--overwrite-read-only",
        action="store_true",
        help="replace the output file or frames even if they are read-only (refused otherwise)",
    )
    parser.add_argument(
        "--shade-grad", action="store_true", help="darken each value by the size of its grad"
    )
    parser.set_defaults(run=run)
    # argparse takes any argument that starts with "-" and is not a known option for an unknown
    # option, except negative numbers; widening its negative-number pattern to everything
    # after "-" that is not "-" lets "-a*2" be the expression. Set after the options are added,
    # as argparse also reads the pattern while adding them (an option matching it disables it).
    parser._negative_number_matcher = re.compile(r"^-[^-]")


def run(args: argparse.Namespace) -> int:
    """Draw the expression; print where the files went, or one line of error."""
    try:
        out, names = build(args.expression, args.bindings)
        drawing = draw_dot(out, shade_grad=args.shade_grad, backend=args.backend)
        force = args.overwrite_read_only
        written: list[str | Path] = [drawing.save(args.output, overwrite_read_only=force)]
        if args.steps:
            steps = backward_steps(out, shade_grad=args.shade_grad, backend=args.backend)
            written += steps.save(args.steps, args.steps_format, overwrite_read_only=force)
    except (ExpressionError, GraphTooLargeError, RenderError, ValueError, OSError) as error:
        hint = "; or pass --overwrite-read-only" if "read-only" in str(error) else ""
        _say(f"micrograd draw: error: {error}{hint}", sys.stderr)
        return 1
    _say(f"{args.expression.strip()} = {out.data:.6g}")
    for name, value in names.items():
        _say(f"  d/d{name} = {value.grad:.6g}")
    _say(
        f"wrote {written[0]}"
        + (f" and {len(written) - 1} frames in {args.steps}" if args.steps else "")
    )
    return 0


def _say(line: str, stream: TextIO | None = None) -> None:
    print(printable(line), file=stream or sys.stdout)


def build(expression: str, bindings: list[str]) -> tuple[Value, dict[str, Value]]:
    """The expression's output after backward(), and the Value of each bound name."""
    tree = parse(expression)
    names: dict[str, Value] = {}
    for text in bindings:
        name, number = parse_binding(text)
        if name in names:
            raise ExpressionError(f"--set gives {name} twice")
        names[name] = Value(number, name)
    used = names_used(tree)
    unused = [name for name in names if name not in used]
    if unused:
        raise ExpressionError(f"--set gives {', '.join(unused)}, not used in the expression")
    # The parser reports overflow and domain errors itself, so the ops' warnings are noise here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = evaluate(tree, names)
    if not out.requires_grad:
        raise ExpressionError("the expression has no names, so there is no gradient to draw")
    out.backward()
    return out, {name: names[name] for name in used if name in names}

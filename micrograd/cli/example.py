"""`python -m micrograd example`: build a small expression, backpropagate, print the numbers."""

from __future__ import annotations

import argparse

from micrograd.engine import Value


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `example` command."""
    parser = subparsers.add_parser(
        "example",
        help="backpropagate through a small expression and print every gradient",
        description="Build tanh(a*b + c) from a=2, b=-3, c=10, run backward() and print the "
        "value and gradient of every node.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print each node of tanh(a*b + c) with its data and grad."""
    a, b, c = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c")
    ab = a * b
    ab.label = "a*b"
    n = ab + c
    n.label = "n"
    out = n.tanh()
    out.label = "out"
    out.backward()
    print("out = tanh(a*b + c)")
    for node in (a, b, c, ab, n, out):
        print(f"  {node.label:>4}: data = {node.data:10.6f}   grad = {node.grad:10.6f}")
    return 0

"""`python -m micrograd playground --out DIR [--assets DIR]`: write the browser playground.

The page itself is `micrograd.playground`; this command only builds it and says how to open it.
"""

from __future__ import annotations

import argparse
import sys

from micrograd.cli.terminal import printable
from micrograd.playground.build import (
    CDN_PYODIDE,
    CDN_VIZ,
    PYODIDE_VERSION,
    VIZ_VERSION,
    build_page,
)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `playground` command."""
    parser = subparsers.add_parser(
        "playground",
        help="write a static web page that runs micrograd in the browser (Pyodide)",
        description="Write index.html and its scripts into a folder: a page that runs this "
        "package in Pyodide and draws graphs with Graphviz compiled to WebAssembly (viz.js). "
        f"By default both load from a CDN (Pyodide {PYODIDE_VERSION}, @viz-js/viz "
        f"{VIZ_VERSION}); --assets uses local copies instead.",
        epilog=f"offline: npm pack pyodide@{PYODIDE_VERSION} @viz-js/viz@{VIZ_VERSION} in a "
        "folder, then --assets FOLDER, and serve the page: python -m http.server -d DIR",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write the page to")
    parser.add_argument(
        "--assets",
        metavar="DIR",
        help="folder with the npm packages (the .tgz files of npm pack, or unpacked) to copy "
        "beside the page instead of loading them from the CDN",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the page; print where it is and how to open it, or one line of error."""
    try:
        index = build_page(args.out, args.assets)
    except (ValueError, OSError) as error:
        print(printable(f"micrograd playground: error: {error}"), file=sys.stderr)
        return 1
    # The folder names are the user's: shown escaped, never obeyed by the terminal.
    print(printable(f"wrote {index}"))
    if args.assets:
        print(printable(f"serve it: python -m http.server --bind 127.0.0.1 -d {index.parent}"))
        print("then open http://127.0.0.1:8000/")
    else:
        print(f"open it in a browser (it loads {CDN_PYODIDE} and {CDN_VIZ})")
    return 0

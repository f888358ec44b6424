"""Fixtures of the playground's and the lesson's browser tests: the assets, the site, its server.

The assets are the pinned npm packages in the folder MICROGRAD_PLAYGROUND_ASSETS names (`.ci/run`
fetches them with `npm pack`); a test that needs them skips without them, saying what to set.
Each module gets its own site and server (module scope); its own `browser` fixture opens its page.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import pytest

from micrograd.playground.build import PYODIDE_VERSION, VIZ_VERSION, AssetError, find_assets
from tests.browser import serving

ASSETS_VARIABLE = "MICROGRAD_PLAYGROUND_ASSETS"


@pytest.fixture(scope="module")
def assets() -> pathlib.Path:
    """The folder of npm packages the page is built with."""
    folder = os.environ.get(ASSETS_VARIABLE)
    if not folder:
        pytest.skip(
            f"{ASSETS_VARIABLE} is not set: point it at a folder holding `npm pack "
            f"pyodide@{PYODIDE_VERSION} @viz-js/viz@{VIZ_VERSION}` (.ci/run does this)"
        )
    try:
        find_assets(pathlib.Path(folder))
    except AssetError as error:
        pytest.skip(f"{ASSETS_VARIABLE}={folder}: {error}")
    return pathlib.Path(folder)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, assets: pathlib.Path) -> pathlib.Path:
    """The site `python -m micrograd playground --assets` writes, in a fresh folder."""
    from micrograd.cli import main

    out = tmp_path_factory.mktemp("site")
    assert main(["playground", "--out", str(out), "--assets", str(assets)]) == 0
    return out


@pytest.fixture(scope="module")
def server(site: pathlib.Path) -> Iterator[str]:
    """The site served on 127.0.0.1: its address."""
    with serving(site) as url:
        yield url

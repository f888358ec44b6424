"""Writing the playground page into a folder: the static files, the package's sources, assets.

The page loads Pyodide and viz.js from their public CDN, or, given the unpacked npm packages
(`npm pack pyodide@314.0.7 @viz-js/viz@3.31.0`, as .tgz files or unpacked folders), from copies
beside it, in a Web Worker (`worker.js`). The package's own `.py` files are bundled into
`micrograd-package.js`, a plain script the worker loads, so the page runs exactly this version of
the library. Browsers start no worker for a `file://` page: the folder is served over HTTP.
`config.js` gives the worker the SHA-384 of every Pyodide and viz.js file, which it checks
before use (pinned for the CDN; computed from the copies with assets).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import tarfile
import zlib
from collections.abc import Callable
from importlib import resources

from micrograd.expr import MAX_LENGTH as MAX_EXPRESSION_LENGTH
from micrograd.files import write_atomically
from micrograd.playground.glue import MAX_ADDRESS_LENGTH, MAX_VALUES_LENGTH

PYODIDE_VERSION = "314.0.7"
VIZ_VERSION = "3.31.0"
CDN_PYODIDE = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
CDN_VIZ = f"https://cdn.jsdelivr.net/npm/@viz-js/viz@{VIZ_VERSION}/dist/viz-global.js"

# What the page needs from each npm package, by path inside the package.
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
VIZ_FILES = ("dist/viz-global.js",)
# SHA-384 of each file the page loads from the CDN, as in the pinned npm packages (a browser test
# checks them against `npm pack`'s files): the worker checks every download before it is used.
CDN_INTEGRITY = {
    "pyodide.mjs": "sha384-Lp79fMwxa4n2BLtugpUAoQMlbxIdg8iCUiP1r3h7nJLkQjwlXT1JzZTeHVL+f4Dg",
    "pyodide.asm.mjs": "sha384-/2281iaC0Iimw0B3Kagy1DBfZcJG3W4KYW+EmOqhsdY3fR9BJ88FE2Zt6y0KQKpa",
    "pyodide.asm.wasm": "sha384-y++qrQ72KPA1fTjLIuGMP+jppgGxjbLCgfdb0zMrnNnQVhxRUXTOTF6rTxNzllSu",
    "python_stdlib.zip": "sha384-xW3A5jmenkrPXbsgrIaB1FCJh9OuLT7FRMagsJMgtlhVc19k/mSy3+7nMaF/d767",
    "pyodide-lock.json": "sha384-o8SQQvpVlZnOl04+3dFTJipKxul9GbViVusA379wlOrfHSgxbzt0yPiqCTxOiYES",
    "dist/viz-global.js": "sha384-iX6VK6ib27dxYB4T470zbHOsDDoLewuYvrIgv2B3XXe8kgfKsGMf8QIleFy6VPi4",
}
_PACKAGES = {"pyodide": (PYODIDE_VERSION, PYODIDE_FILES), "@viz-js/viz": (VIZ_VERSION, VIZ_FILES)}
_STATIC = (
    "index.html",
    "playground.js",
    "playground.css",
    "worker.js",
    "worker-client.js",  # both pages' side of worker.js
    # The lesson page (lesson.html), run by the same worker: see micrograd.playground.lesson.
    "lesson.html",
    "lesson.js",
    "lesson.css",
    "lesson-strings.json",
)
Reader = Callable[[str], bytes]
_MARKER = ".micrograd-playground"  # marks a folder this builder wrote, so it may write again


class AssetError(ValueError):
    """The `--assets` folder lacks a package the page needs, or holds another version."""


def build_page(
    out: str | os.PathLike[str], assets: str | os.PathLike[str] | None = None
) -> pathlib.Path:
    """Write the playground into `out` (created if needed); return the path of its index.html.

    The lesson page, `lesson.html`, is written beside it and runs in the same worker.

    `out` must be missing, empty, or a folder this function wrote before. With `assets`, the
    pinned Pyodide and viz.js files are copied from it into `out/assets/`.
    """
    folder = pathlib.Path(out)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"--out must be a folder, received the file {str(folder)!r}")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / _MARKER).exists():
        raise FileExistsError(
            f"{str(folder)!r} is not empty and was not written by this command; "
            "choose a new or empty folder"
        )
    found = find_assets(pathlib.Path(assets)) if assets is not None else None
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / _MARKER, b"written by python -m micrograd playground\n")
    static = resources.files("micrograd.playground") / "static"
    for name in _STATIC:
        _write(folder / name, static.joinpath(name).read_bytes())
    _write(folder / "micrograd-package.js", package_script().encode("utf-8"))
    if found is None:
        urls = {"pyodide": CDN_PYODIDE, "viz": CDN_VIZ}
        integrity = {f"{CDN_PYODIDE}{name}": CDN_INTEGRITY[name] for name in PYODIDE_FILES} | {
            CDN_VIZ: CDN_INTEGRITY[VIZ_FILES[0]]
        }
        help_text = (
            "The page loads Pyodide and viz.js from cdn.jsdelivr.net (is the network up?) into a "
            "Web Worker, which browsers refuse to a file:// page: serve the folder, e.g. "
            "python -m http.server -d FOLDER, and open http://127.0.0.1:8000/"
        )
    else:
        integrity = {}
        for package, (_, files) in _PACKAGES.items():
            short = package.split("/")[-1]
            for name in files:
                data = found[package](name)
                file = pathlib.PurePosixPath(name).name
                _write(folder / "assets" / short / file, data)
                integrity[f"assets/{short}/{file}"] = sri_hash(data)
        urls = {"pyodide": "assets/pyodide/", "viz": "assets/viz/viz-global.js"}
        help_text = (
            "The page runs Pyodide from assets/ beside it in a Web Worker, which browsers refuse "
            "to a file:// page: serve the folder, e.g. python -m http.server -d FOLDER, and open "
            "http://127.0.0.1:8000/"
        )
    # The page caps what it reads (a shared link, the form's fields) with the package's limits.
    limits = {
        "expression": MAX_EXPRESSION_LENGTH,
        "values": MAX_VALUES_LENGTH,
        "address": MAX_ADDRESS_LENGTH,
    }
    config = {**urls, "help": help_text, "integrity": integrity, "limits": limits}
    _write(folder / "config.js", f"window.PLAYGROUND_CONFIG = {json.dumps(config)};\n".encode())
    return folder / "index.html"


def sri_hash(data: bytes) -> str:
    """`data`'s Subresource Integrity string: "sha384-" and the base64 of its SHA-384."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def package_script() -> str:
    """`micrograd-package.js`: every .py file of the package, by path, as a JavaScript object."""
    root = resources.files("micrograd")
    files: dict[str, str] = {}
    stack = [(root, "micrograd")]
    while stack:
        directory, prefix = stack.pop()
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if entry.is_dir() and entry.name != "__pycache__":
                stack.append((entry, f"{prefix}/{entry.name}"))
            elif entry.name.endswith(".py"):
                files[f"{prefix}/{entry.name}"] = entry.read_text(encoding="utf-8")
    # A file of its own, not inline in index.html: JSON is valid JavaScript as it is there.
    # `self`: the global object in the worker that loads it (and in a page, where it is window).
    return "self.MICROGRAD_FILES = " + json.dumps(dict(sorted(files.items()))) + ";\n"


def find_assets(folder: pathlib.Path) -> dict[str, Reader]:
    """A reader `name -> bytes` per needed npm package, from .tgz files or unpacked folders."""
    if not folder.is_dir():
        raise AssetError(f"--assets must be a folder, received {str(folder)!r}")
    found: dict[str, Reader] = {}
    seen: list[str] = []
    for package_json in _package_jsons(folder):
        try:
            meta = json.loads(package_json.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        name, version = _name_and_version(meta)
        if name in _PACKAGES and name not in found:
            seen.append(f"{name}@{version} ({package_json.parent})")
            if version == _PACKAGES[name][0]:
                found[name] = _folder_reader(package_json.parent)
    for archive in sorted(folder.glob("*.tgz")):
        name, version = _archive_package(archive)
        if name in _PACKAGES and name not in found:
            seen.append(f"{name}@{version} ({archive})")
            if version == _PACKAGES[name][0]:
                found[name] = _archive_reader(archive)
    missing = [f"{name}@{version}" for name, (version, _) in _PACKAGES.items() if name not in found]
    if missing:
        raise AssetError(
            f"{str(folder)!r} lacks {' and '.join(missing)} (found: {', '.join(seen) or 'none'}); "
            f"get them with: npm pack {' '.join(missing)}"
        )
    for name, read in found.items():
        for file in _PACKAGES[name][1]:
            read(file)  # fail now, naming the file, rather than half-way through writing
    return found


def _package_jsons(folder: pathlib.Path) -> list[pathlib.Path]:
    # The folder itself, its subfolders and theirs: `tar xzf` puts a package in `package/`.
    return [
        path
        for pattern in ("package.json", "*/package.json", "*/*/package.json", "*/*/*/package.json")
        for path in sorted(folder.glob(pattern))
    ]


def _folder_reader(root: pathlib.Path) -> Reader:
    def read(name: str) -> bytes:
        path = root / name
        if not path.is_file():
            raise AssetError(f"{str(root)!r} has no {name}: is the npm package complete?")
        return path.read_bytes()

    return read


def _name_and_version(meta: object) -> tuple[str | None, str | None]:
    """A package.json's name and version; None for what is not a string in a JSON object."""
    if not isinstance(meta, dict):
        return None, None
    name, version = meta.get("name"), meta.get("version")
    return (
        name if isinstance(name, str) else None,
        version if isinstance(version, str) else None,
    )


# What reading a damaged .tgz raises: a bad or cut-off gzip stream, a bad tar header.
_BROKEN_ARCHIVE = (OSError, EOFError, zlib.error, tarfile.TarError)


def _archive_package(archive: pathlib.Path) -> tuple[str | None, str | None]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("package/package.json")
            meta = json.loads(member.read()) if member else {}
    except (*_BROKEN_ARCHIVE, KeyError, ValueError, RecursionError):
        return None, None
    return _name_and_version(meta)


def _archive_reader(archive: pathlib.Path) -> Reader:
    def read(name: str) -> bytes:
        # Members are read by name, never extracted, so no path in the archive is trusted.
        try:
            with tarfile.open(archive, "r:gz") as tar:
                try:
                    member = tar.extractfile(f"package/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise AssetError(f"{str(archive)!r} has no package/{name}")
                return member.read()
        except _BROKEN_ARCHIVE as error:
            raise AssetError(
                f"{str(archive)!r} is not a readable .tgz archive (reading package/{name}: "
                f"{type(error).__name__}: {error}); expected the file npm pack writes"
            ) from None

    return read


def _write(path: pathlib.Path, data: bytes) -> None:
    """Write `data` to `path` atomically (see `micrograd.files`), making its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)

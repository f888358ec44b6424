"""The documentation site's configuration (mkdocs.yml), checked without building the site.

`mkdocs build --strict` (CI runs it) refuses a page that is not in `nav`; this test says the same
thing in the quick loop, naming the page, so a new notebook or guide page cannot be forgotten.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def nav_pages(entries: object) -> list[str]:
    """Every page path in a `nav` tree, in order (entries are paths or {title: subtree})."""
    found: list[str] = []
    if isinstance(entries, str):
        found.append(entries)
    elif isinstance(entries, list):
        for entry in entries:
            found += nav_pages(entry)
    elif isinstance(entries, dict):
        for subtree in entries.values():
            found += nav_pages(subtree)
    return found


def hook_constant(name: str) -> object:
    """A literal assigned at the top of docs/hooks.py (the pages it adds from outside docs/)."""
    tree = ast.parse((ROOT / "docs" / "hooks.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"docs/hooks.py assigns no {name}")


def site_pages() -> set[str]:
    """Every page the site is built from, as mkdocs names them (paths relative to docs/)."""
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    renamed = hook_constant("RENAMED")
    assert isinstance(renamed, dict)
    pages |= set(renamed.values())
    folders = hook_constant("FOLDERS")
    assert isinstance(folders, tuple)
    for folder in folders:
        for path in (ROOT / folder).glob("*"):
            if path.suffix in (".md", ".ipynb"):
                pages.add(path.relative_to(ROOT).as_posix())
    return pages


def config() -> dict:
    with open(ROOT / "mkdocs.yml", encoding="utf-8") as file:
        loaded = yaml.safe_load(file)
    assert isinstance(loaded, dict)
    return loaded


def test_every_page_and_notebook_is_in_nav_once():
    nav = nav_pages(config()["nav"])
    missing = sorted(site_pages() - set(nav))
    assert not missing, f"pages not in mkdocs.yml's nav (mkdocs build --strict fails): {missing}"
    unknown = sorted(set(nav) - site_pages())
    assert not unknown, f"nav names pages that do not exist: {unknown}"
    twice = sorted({page for page in nav if nav.count(page) > 1})
    assert not twice, f"pages listed twice in nav: {twice}"


def test_every_notebook_is_a_page_in_reading_order():
    nav = nav_pages(config()["nav"])
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 8
    assert [page for page in nav if page.endswith(".ipynb")] == notebooks


def test_warnings_fail_the_build():
    # A plain `mkdocs build` is as strict as CI's `mkdocs build --strict`.
    assert config()["strict"] is True


def test_the_readme_is_the_home_page_and_maps_every_guide_page():
    # The README is the front door on GitHub and on the site; the manual is docs/guide/.
    assert hook_constant("RENAMED") == {"README.md": "index.md", "CHANGELOG.md": "changelog.md"}
    assert not (ROOT / "docs" / "index.md").exists(), "two home pages"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = sorted(p.name for p in (ROOT / "docs" / "guide").glob("*.md"))
    assert len(guide) >= 14
    unmapped = [name for name in guide if f"(docs/guide/{name})" not in readme]
    assert not unmapped, f"the README's map of the guide does not link {unmapped}"
    # The site's guide is read in the order of the README's map.
    table = readme[readme.index("\n## The guide\n") :]
    in_readme = sorted(guide, key=lambda name: table.index(f"(docs/guide/{name})"))
    nav = nav_pages(config()["nav"])
    assert [page for page in nav if page.startswith("guide/")] == [f"guide/{n}" for n in in_readme]

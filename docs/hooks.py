"""MkDocs hook: add pages that live outside docs/ and fix relative links for the site.

The README (the site's home page), the changelog, the notebooks and the benchmarks' README stay
where readers of the repository find them; the site takes them from there, so there is one copy
of each. Links are written as the repository has the files, so that they work on GitHub; this
hook rewrites them to the site's paths, on the added pages and on the guide's pages in docs/
(which link to the README, the notebooks and the benchmarks).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
DOCS = "docs/"
# Repository path -> path in the site's sources, for files outside docs/.
RENAMED = {"README.md": "index.md", "CHANGELOG.md": "changelog.md"}
FOLDERS = ("notebooks", "benchmarks")
LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


def _added() -> dict[str, str]:
    """Site source path -> repository path of every page this hook adds."""
    pages = {site: repo for repo, site in RENAMED.items()}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).glob("*")):
            if path.suffix in (".md", ".ipynb"):
                name = path.relative_to(ROOT).as_posix()
                pages[name] = name
    return pages


def _site_path(repo_path: str) -> str | None:
    """Where a repository file is among the site's sources, or None if it is not there."""
    if repo_path.startswith(DOCS):
        return repo_path[len(DOCS) :]
    return {repo: site for site, repo in _added().items()}.get(repo_path)


# Before mkdocs-jupyter's on_files, which turns the added notebooks into pages.
@event_priority(100)
def on_files(files: Files, config: Any) -> Files:
    """Add the README, changelog, notebooks and benchmarks' README as pages."""
    for site, repo in _added().items():
        if site == repo:
            # A plain File, not File.generated: mkdocs-jupyter finds a notebook by its src_dir.
            file = File(site, str(ROOT), config["site_dir"], config["use_directory_urls"])
        else:
            file = File.generated(config, site, abs_src_path=str(ROOT / repo))
        files.append(file)
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Rewrite relative links of a page from repository paths to site paths."""
    repo_page = _added().get(page.file.src_uri, DOCS + page.file.src_uri)

    def fix(match: re.Match[str]) -> str:
        target = match.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return match.group(0)
        repo_target = posixpath.normpath(posixpath.join(posixpath.dirname(repo_page), target))
        site_target = _site_path(repo_target)
        if site_target is None:
            return match.group(0)  # left for mkdocs to report
        here = posixpath.dirname(page.file.src_uri) or "."
        new = posixpath.relpath(site_target, here)
        return f"{match.group(1)}{new}{match.group(3) or ''}{match.group(4)}"

    return LINK.sub(fix, markdown)

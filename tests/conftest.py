"""Shared test settings: a bounded hypothesis budget so the suite stays fast in CI.

The default profile is derandomized, so a CI run is repeatable: the same examples every run.
`HYPOTHESIS_PROFILE=long` explores new random examples, 2,000 per test, for finding bugs. The
quick loop, `pytest -m "not slow"`, also draws fewer examples per property test (the "quick"
profile) unless HYPOTHESIS_PROFILE says otherwise; CI runs everything with the "ci" profile.
A test that needs another count than 60 asks for `examples(n)` (tests/references.py): n under
"ci", scaled by the same ratio under the other profiles.

Cross-checks against PyTorch take the `torch` fixture (or `needs_torch`, tests/references.py):
such a test is marked `torch`, so `python -m pytest -m torch` runs exactly them (CI does, once
torch is installed, after the whole suite has run without it), and skipped where torch is not
installed. A test that skips for want of torch without that mark fails, naming itself: it would
otherwise never run in CI.

A test file lives in the folder of what it covers, a folder named on the map of the tests folder
(docs/guide/development.md); a file elsewhere fails to collect, saying so.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

TESTS = Path(__file__).parent
TESTS_MAP = TESTS.parent / "docs" / "guide" / "development.md"

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("long", max_examples=2000, deadline=None)
settings.register_profile(
    "quick",
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config) -> None:
    if (
        config.option.markexpr.replace("'", '"') == "not slow"
        and "HYPOTHESIS_PROFILE" not in os.environ
    ):
        settings.load_profile("quick")


@pytest.fixture(scope="session")
def torch():
    """PyTorch, for a cross-check; the test is skipped where it is not installed."""
    return pytest.importorskip("torch")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.torch)


def _skipped_for_torch(report) -> bool:
    return report.skipped and "torch" in str(report.longrepr).lower()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _skipped_for_torch(report) and item.get_closest_marker("torch") is None:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} skips without PyTorch but is not marked `torch`, so "
            "`pytest -m torch` would never run it: take the `torch` fixture or use needs_torch"
        )


def _misplaced(path: Path) -> str | None:
    """Why a test file is not where a newcomer would look for it, or None."""
    if path.parent == TESTS:
        return "test files live in the folder of what they cover, not at the top of tests/"
    if path.parent.parent == TESTS:
        if f"`{path.parent.name}/`" not in TESTS_MAP.read_text(encoding="utf-8"):
            return f"the folder tests/{path.parent.name}/ is not on the map of the tests folder"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if isinstance(collector, pytest.Module) and report.passed:
        why = _misplaced(collector.path)
        if why:
            report.outcome = "failed"
            report.longrepr = (
                f"{collector.nodeid}: {why} (docs/guide/development.md#the-tests-folder)"
            )
    # A module that needs torch throughout skips at import; it says so first with its marker.
    if _skipped_for_torch(report) and isinstance(collector, pytest.Module):
        if "pytestmark = pytest.mark.torch" not in collector.path.read_text(encoding="utf-8"):
            report.outcome = "failed"
            report.longrepr = (
                f"{collector.nodeid} skips without PyTorch but does not set "
                "`pytestmark = pytest.mark.torch` before its importorskip"
            )

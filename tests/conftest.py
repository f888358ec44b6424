"""Shared test settings: a bounded hypothesis budget so the suite stays fast in CI.

The default profile is derandomized, so a CI run is repeatable: the same examples every run.
`HYPOTHESIS_PROFILE=long` explores new random examples, 2,000 per test, for finding bugs. The
quick loop, `pytest -m "not slow"`, also draws fewer examples per property test (the "quick"
profile) unless HYPOTHESIS_PROFILE says otherwise; CI runs everything with the "ci" profile.
A test that needs another count than 60 asks for `examples(n)` (tests/references.py): n under
"ci", scaled by the same ratio under the other profiles.
"""

import os

from hypothesis import HealthCheck, settings

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

"""``python3 run.py`` installs on every Python pyproject.toml names and every platform the
project supports: each of its requirements (build, runtime, development) has a binary wheel
there, so a dependency that stops shipping one for a Python or a platform fails here rather
than on a user's machine. And the check does fail for a requirement without a wheel.

The work runs concurrently (pip and the index pages mostly wait on the network). It needs the
package index: with none reachable, these tests are skipped and say why."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.packaging.wheels import (
    PLATFORMS,
    PYPROJECT,
    REFERENCE,
    ROOT,
    Resolution,
    index_files,
    index_unreachable,
    index_url,
    missing_wheels,
    platform_specific,
    pythons,
    requirements,
    resolve,
)

TARGETS = [f"{python} {platform}" for python in pythons() for platform in PLATFORMS]

# pgserver 0.1.4, the project's embedded PostgreSQL before, has wheels for CPython 3.11 and
# 3.12 on Linux x86_64 and macOS, none for 3.13, none for Linux aarch64: the failures this
# check exists to catch, the first in pip's resolution, the second in the platforms' lookup.
CONTROL = "pgserver==0.1.4"


@pytest.fixture(scope="module")
def outcome() -> dict[str, Resolution | list[str]]:
    """Per target (``"3.13 macos-arm64"``): pip's failed resolution, or the plan's wheels
    missing there (none: it installs). The controls' too, under ``control ...``."""
    reason = index_unreachable()
    if reason is not None:
        pytest.skip(f"no package index reachable ({reason}); the wheel checks need one")
    jobs = {python: (python, requirements()) for python in pythons()}
    jobs |= {f"control {python}": (python, [CONTROL]) for python in ("3.12", "3.13")}
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        resolutions = dict(
            zip(jobs, pool.map(lambda job: resolve(*job), jobs.values()), strict=True)
        )
    plans = {key: platform_specific(found) for key, found in resolutions.items() if found.ok}
    index = index_url()
    names = sorted({name for plan in plans.values() for name in plan})
    with ThreadPoolExecutor(max_workers=8) as pool:
        files = dict(
            zip(names, pool.map(lambda name: index_files(index, name), names), strict=True)
        )
    found: dict[str, Resolution | list[str]] = {}
    for key, resolution in resolutions.items():
        for platform in PLATFORMS:
            target = f"{key} {platform}"
            if not resolution.ok:
                found[target] = resolution
            else:
                found[target] = missing_wheels(resolution.python, platform, plans[key], files)
    return found


def test_the_pythons_named_are_the_ones_requires_python_and_run_py_accept() -> None:
    named = pythons()
    oldest, newest = (int(version.split(".")[1]) for version in (named[0], named[-1]))
    assert named == [f"3.{minor}" for minor in range(oldest, newest + 1)]  # no gap
    assert PYPROJECT["project"]["requires-python"] == f">=3.{oldest},<3.{newest + 1}"
    run_py = (ROOT / "run.py").read_text()
    assert f"\nOLDEST, NEWEST = (3, {oldest}), (3, {newest})\n" in run_py


# One test for every target, not one per target: the resolutions (about 35 s of pip's CPU) are
# a module fixture, and tests of one module dealt to two pytest workers resolved twice.
@pytest.mark.long(seconds=35)
def test_every_requirement_has_a_wheel_on_every_python_and_platform(
    outcome: dict[str, Resolution | list[str]],
) -> None:
    problems = []
    for target in TARGETS:
        found = outcome[target]
        if isinstance(found, Resolution):
            problems.append(f"{target}: pip cannot install every requirement from wheels:")
            problems.append(found.output)
        elif found:
            problems.append(f"{target}: no wheel for {', '.join(found)}")
    assert not problems, "\n".join(problems)
    assert len(TARGETS) == 16  # Python 3.11-3.14 on four platforms
    # And the check fails for a requirement without a wheel: on a Python, and on a platform.
    without_python = outcome[f"control 3.13 {REFERENCE}"]
    assert isinstance(without_python, Resolution)
    assert "pgserver" in without_python.output
    # Where it has wheels it passes: the failures are the missing wheels', not the network's.
    assert outcome[f"control 3.12 {REFERENCE}"] == []
    assert outcome["control 3.12 macos-arm64"] == []
    assert outcome["control 3.12 linux-aarch64"] == ["pgserver 0.1.4"]

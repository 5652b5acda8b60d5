"""What the wheel checks resolve, and how.

The Pythons are those pyproject.toml's classifiers name; the platforms those the project
installs on. For each Python, pip resolves every requirement on the reference platform (Linux
x86_64) as it would install it, wheels only (``install --dry-run --only-binary=:all:``: nothing
installed, nothing built, a requirement without a wheel is an error rather than a build from
source). Each platform-specific wheel of that plan (not ``py3-none-any``) is then looked up for
the other platforms in the index's file list. One resolution per Python rather than per
platform: a resolution downloads every wheel where the index serves no separate metadata.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# The oldest C library and macOS each platform is checked against (docs/install.md). glibc 2.28
# is the embedded PostgreSQL's floor (its wheels are manylinux_2_28): Debian 10, Ubuntu 20.04,
# RHEL 8 and later. Given a manylinux tag, pip accepts that glibc only, hence the list (with the
# legacy names of 2.17, 2.12 and 2.5, which some wheels still carry).
GLIBC_MINOR = 28
MACOS = (11, 0)
REFERENCE = "linux-x86_64"


def _manylinux(arch: str) -> list[str]:
    newest_first = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 4, -1)]
    return [*newest_first, *(f"manylinux{legacy}_{arch}" for legacy in ("2014", "2010", "1"))]


PLATFORMS: dict[str, list[str]] = {
    REFERENCE: _manylinux("x86_64"),
    "linux-aarch64": _manylinux("aarch64"),
    "macos-arm64": list(mac_platforms(MACOS, "arm64")),
    "macos-x86_64": list(mac_platforms(MACOS, "x86_64")),
}


def pythons() -> list[str]:
    """The Python versions pyproject.toml's classifiers name, e.g. ``["3.11", "3.12"]``."""
    found = []
    for classifier in PYPROJECT["project"]["classifiers"]:
        match = re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", classifier)
        if match:
            found.append(match.group(1))
    return sorted(found, key=lambda version: int(version.split(".")[1]))


def requirements() -> list[str]:
    """Everything an install from source pulls in: the build backend, the runtime and the
    development dependencies (``python3 run.py`` installs ``.[dev]``)."""
    project = PYPROJECT["project"]
    listed = [
        *PYPROJECT["build-system"]["requires"],
        *project["dependencies"],
        *project["optional-dependencies"]["dev"],
    ]
    return list(dict.fromkeys(listed))


@dataclass(frozen=True)
class Resolution:
    python: str
    ok: bool
    seconds: float
    wheels: dict[str, str]  # distribution name -> the file of the plan, when it resolved
    output: str  # pip's complaints, when it did not


def resolve(python: str, wanted: list[str]) -> Resolution:
    """Resolve ``wanted`` as pip would install it on ``python`` and the reference platform."""
    platform_options = [option for tag in PLATFORMS[REFERENCE] for option in ("--platform", tag)]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ce-wheels-") as scratch:
        report = Path(scratch) / "report.json"
        done = subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"),
                *("--only-binary=:all:", "--python-version", python, *platform_options),
                *("--target", str(Path(scratch) / "target"), "--report", str(report)),
                *("--quiet", "--disable-pip-version-check", "--timeout", "60"),
                *wanted,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        wheels: dict[str, str] = {}
        if done.returncode == 0:
            for item in json.loads(report.read_text())["install"]:
                name = canonicalize_name(item["metadata"]["name"])
                wheels[name] = item["download_info"]["url"].rsplit("/", 1)[-1]
    return Resolution(python, done.returncode == 0, time.monotonic() - started, wheels,
                      _complaints(done.stderr))  # fmt: skip


def platform_specific(resolution: Resolution) -> dict[str, str]:
    """The plan's wheels that are not for every platform: name -> version."""
    specific = {}
    for name, filename in resolution.wheels.items():
        _, version, _, tags = parse_wheel_filename(filename)
        if not any(tag.platform == "any" for tag in tags):
            specific[name] = str(version)
    return specific


def missing_wheels(
    python: str, platform: str, plan: dict[str, str], files: dict[str, list[str]]
) -> list[str]:
    """The ``name version`` of ``plan`` with no wheel among ``files`` (name -> the index's
    file names) that pip would install on ``python`` and ``platform``."""
    minor = int(python.split(".")[1])
    platforms = PLATFORMS[platform]
    accepted: set[Tag] = {
        *cpython_tags((3, minor), platforms=platforms),
        *compatible_tags((3, minor), interpreter=f"cp3{minor}", platforms=platforms),
    }
    missing = []
    for name, version in sorted(plan.items()):
        wheels = [  # parsing only this version's (some list thousands of files)
            parse_wheel_filename(filename)
            for filename in files.get(name, [])
            if filename.endswith(".whl") and f"-{version}-" in filename
        ]
        if not any(str(found[1]) == version and found[3] & accepted for found in wheels):
            missing.append(f"{name} {version}")
    return missing


def index_url() -> str:
    """pip's index (PIP_INDEX_URL or its configuration), else PyPI's."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].rstrip("/")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    configured = done.stdout.strip() if done.returncode == 0 else ""
    return (configured or "https://pypi.org/simple").rstrip("/")


def index_files(index: str, name: str) -> list[str]:
    """The file names the index lists for a distribution (its JSON simple API, PEP 691)."""
    request = urllib.request.Request(
        f"{index}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        page = json.load(response)
    return [file["filename"] for file in page["files"]]


def _complaints(stderr: str) -> str:
    # pip warns about every configured location it cannot read; the errors are what matters.
    lines = [line for line in stderr.splitlines() if not line.startswith("WARNING: Location")]
    return "\n".join(lines[-15:])


def index_unreachable() -> str | None:
    """Why pip cannot reach its package index (as configured here: index-url, mirrors,
    certificates), or None when it can: one small wheel of a dependency, fetched."""
    with tempfile.TemporaryDirectory(prefix="ce-index-") as scratch:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"),
                *("--dest", scratch, "--quiet", "--disable-pip-version-check"),
                *("--timeout", "15", "--retries", "1", "sniffio"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if done.returncode == 0:
        return None
    return _complaints(done.stderr).splitlines()[-1] if done.stderr.strip() else "pip failed"

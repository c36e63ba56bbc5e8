"""What a wheel carries: every data file the package reads must be named in pyproject's package-data.

An editable install (what ``make test`` uses) reads files from the source tree, so a file missing
from package-data would only fail for users who ``pip install`` a built wheel.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "src" / "reportedly"


def test_every_data_file_in_the_package_is_in_package_data() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["reportedly"]
    data = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert any(name.startswith("models/") for name in data)
    missing = [name for name in data if not any(fnmatch.fnmatch(name, pat) for pat in patterns)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"

"""The code passes the linter configured in pyproject.toml (ruff, a dev dependency)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import REPO_ROOT


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    result = subprocess.run([ruff, "check", "spa_gym", "spa_gym_verifiers", "tests", "benchmarks", "examples",
                             "conftest.py"],
                            cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

"""Shared test helpers: where the recordings of the real engines live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def fixtures_root() -> Path | None:
    """``$SPA_GYM_FIXTURES`` or ``../shared/fixtures`` beside the repo root, if it exists."""
    configured = os.environ.get("SPA_GYM_FIXTURES")
    root = Path(configured) if configured else REPO_ROOT.parent / "shared" / "fixtures"
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def alfworld_fixtures() -> Path:
    return _engine_fixtures("alfworld")


def _engine_fixtures(name: str) -> Path:
    root = fixtures_root()
    if root is None or not (root / name).is_dir():
        pytest.skip(f"{name} fixtures not found: set SPA_GYM_FIXTURES or place shared/fixtures beside the repo")
    return root / name


@pytest.fixture(scope="session")
def webshop_fixtures() -> Path:
    return _engine_fixtures("webshop")


@pytest.fixture(scope="session")
def virtualhome_fixtures() -> Path:
    return _engine_fixtures("virtualhome")


def untrained_but_varied(estimator):
    """A new estimator's head starts at zero (every c_t = 0); give it random weights so tests see varied scores."""
    import torch

    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        estimator.head[2].weight.copy_(torch.randn(estimator.head[2].weight.shape, generator=generator))
    return estimator


class PicklePayload:
    """Pickles to a call that creates ``marker``: what an attacker would plant in a file we load."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))

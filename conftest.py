"""Doctest collection: modules that serve an optional library are skipped where it is not installed."""

from __future__ import annotations

import importlib.util

collect_ignore = [] if importlib.util.find_spec("sb3_contrib") else ["spa_gym/integrations/sb3.py"]

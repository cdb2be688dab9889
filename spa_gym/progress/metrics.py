"""How well per-step scores rank the steps that matter: ROC AUC, pooled and within trajectories.

Example:
    >>> ranking_auc([[0.9, 0.1], [0.5]], [[True, False], [False]])
    1.0
    >>> within_trajectory_auc([[0.9, 0.1], [0.5]], [[True, False], [False]])
    1.0
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence


def _auc(positives: Sequence[float], negatives: Sequence[float]) -> tuple[float, int]:
    """Sum over (positive, negative) pairs of 1 if the positive scores higher, 0.5 on ties; and the pair count."""
    ordered = sorted(negatives)
    wins = 0.0
    for p in positives:
        below, upto = bisect_left(ordered, p), bisect_right(ordered, p)
        wins += below + (upto - below) / 2
    return wins, len(positives) * len(ordered)


def ranking_auc(scores: Sequence[Sequence[float]], labels: Sequence[Sequence[bool]]) -> float:
    """Probability that a positive step scores above a negative one, over all steps of all trajectories."""
    positives = [s for ss, ls in zip(scores, labels) for s, y in zip(ss, ls) if y]
    negatives = [s for ss, ls in zip(scores, labels) for s, y in zip(ss, ls) if not y]
    wins, pairs = _auc(positives, negatives)
    if not pairs:
        raise ValueError("ranking_auc needs at least one positive and one negative step")
    return wins / pairs


def within_trajectory_auc(scores: Sequence[Sequence[float]], labels: Sequence[Sequence[bool]]) -> float:
    """The same, counting only pairs of steps from the same trajectory."""
    total_wins, total_pairs = 0.0, 0
    for ss, ls in zip(scores, labels):
        wins, pairs = _auc([s for s, y in zip(ss, ls) if y], [s for s, y in zip(ss, ls) if not y])
        total_wins += wins
        total_pairs += pairs
    if not total_pairs:
        raise ValueError("within_trajectory_auc needs a trajectory with both positive and negative steps")
    return total_wins / total_pairs

"""Learning-rate schedules shared by the trainers (estimator, SFT): constant, or linear decay to 0.

Example:
    >>> import torch
    >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> scheduler = make_scheduler(optimizer, "linear", total_updates=4)
    >>> for _ in range(3):
    ...     optimizer.step()
    ...     scheduler.step()
    >>> optimizer.param_groups[0]["lr"]
    0.25
"""

from __future__ import annotations

import torch

SCHEDULES = ("constant", "linear")


def check_schedule(name: str) -> None:
    """Raise a clear error for a schedule name that :func:`make_scheduler` does not know."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, not {name!r}")


def make_scheduler(optimizer: torch.optim.Optimizer, name: str,
                   total_updates: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A scheduler stepped once per update: ``"constant"``, or ``"linear"`` from the base rate to 0."""
    check_schedule(name)
    if name == "linear":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda update: max(0.0, 1 - update / total_updates))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda update: 1.0)

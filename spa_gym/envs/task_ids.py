"""Stable task ids of a split, shared by the envs' task suites: ``"<split>-<index:04d>"``."""

from __future__ import annotations


class SplitTaskIds:
    """Mixin for a suite with a ``split`` attribute and ``__len__``: task ids, their indices, and
    the index check.

    Example:
        >>> class Suite(SplitTaskIds):
        ...     split = "test"
        ...     def __len__(self):
        ...         return 12
        >>> Suite().task_id(7), Suite().index_of("test-0011")
        ('test-0007', 11)
    """

    split: str

    def __len__(self) -> int:
        raise NotImplementedError

    def task_id(self, index: int) -> str:
        """The stable id of task ``index``: ``"<split>-<index:04d>"``."""
        self._check_index(index)
        return f"{self.split}-{index:04d}"

    def index_of(self, task_id: str) -> int:
        """The index of a task id of this split; ``ValueError`` for any other id."""
        split, _, number = str(task_id).rpartition("-")
        if split != self.split or not number.isdigit() or int(number) >= len(self):
            raise ValueError(
                f"unknown task id {task_id!r} for split {self.split!r}: "
                f"expected '{self.split}-0000' to '{self.split}-{max(len(self) - 1, 0):04d}'"
            )
        return int(number)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self):
            raise IndexError(f"task index {index} out of range for split {self.split!r} ({len(self)} tasks)")

"""The fixed, versioned ALFWorld task suite: ALFWorld's splits, sizes and task-type mix, generated offline.

Task ``i`` of a split is a pure function of ``(SUITE_VERSION, split, i, grammar)``: its task type
comes from the split's shuffled type schedule, its layout and goal and scene from a random
generator seeded with the task's name. Nothing is stored or downloaded; a task is built when it
is first asked for (and cached).

Sizes and task-type mix are ALFWorld's (ALFWorld paper, Table 1; the ALFWorld README):
train 3,553, valid_seen 140, valid_unseen 134. ``valid_unseen`` uses only the held-out room
layouts (:data:`.scenes.UNSEEN_LAYOUT_IDS`, ALFRED's unseen floor plans 10, 219, 308, 424);
``train`` and ``valid_seen`` never use them.

Example:
    >>> suite = TaskSuite("valid_unseen")
    >>> len(suite)
    134
    >>> suite.task_id(7)
    'valid_unseen-0007'
    >>> suite.index_of("valid_unseen-0007")
    7
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache, lru_cache

from ..task_ids import SplitTaskIds
from .game import Game, compile_game
from .problem import TASK_TYPES, Goal
from .scenes import LAYOUTS, ROOMS_FOR_TASK, UNSEEN_LAYOUT_IDS, Layout, generate_problem, goal_candidates

SUITE_VERSION = "1"

#: Task-type counts per split, in :data:`.problem.TASK_TYPES` order
#: (pick, look, clean, heat, cool, pick_two).
TASK_MIX: dict[str, tuple[int, ...]] = {
    "train": (790, 308, 650, 459, 533, 813),
    "valid_seen": (35, 13, 27, 16, 25, 24),
    "valid_unseen": (24, 18, 31, 23, 21, 17),
}
SPLITS: tuple[str, ...] = tuple(TASK_MIX)


@dataclass(frozen=True)
class TaskSpec:
    """What defines a suite task before its scene is generated."""

    task_id: str
    task_type: str
    layout_id: int
    goal: Goal


class TaskSuite(SplitTaskIds):
    """One split of the generated suite, in one grammar (``"2.1.1"`` default, or ``"2.1.3"``)."""

    def __init__(self, split: str = "train", grammar: str = "2.1.1"):
        if split not in TASK_MIX:
            raise ValueError(f"unknown ALFWorld split {split!r}; expected one of {SPLITS}")
        self.split = split
        self.grammar = grammar
        self._types = _type_schedule(split)

    def __len__(self) -> int:
        return len(self._types)

    def task_type(self, index: int) -> str:
        self._check_index(index)
        return self._types[index]

    def spec(self, index: int) -> TaskSpec:
        """Task type, room layout and goal of task ``index``."""
        self._check_index(index)
        layout, goal, _ = _draw(self.split, index, self._types[index])
        return TaskSpec(self.task_id(index), self._types[index], layout.layout_id, goal)

    def game(self, index: int) -> Game:
        """The compiled game of task ``index`` (built once, then cached)."""
        self._check_index(index)
        return _build(self.split, index, self._types[index], self.grammar)



@cache
def _type_schedule(split: str) -> tuple[str, ...]:
    schedule = [t for t, count in zip(TASK_TYPES, TASK_MIX[split]) for _ in range(count)]
    random.Random(f"alfworld-suite-{SUITE_VERSION}-{split}-types").shuffle(schedule)
    return tuple(schedule)


@cache
def _layouts_for(split: str, task_type: str) -> tuple[Layout, ...]:
    unseen = split == "valid_unseen"
    rooms = ROOMS_FOR_TASK[task_type]
    return tuple(
        layout
        for layout in LAYOUTS
        if layout.room in rooms and (layout.layout_id in UNSEEN_LAYOUT_IDS) == unseen
        and goal_candidates(layout, task_type)
    )


def _draw(split: str, index: int, task_type: str) -> tuple[Layout, Goal, random.Random]:
    """The layout and goal of a task, and the generator (in the state that places its objects)."""
    rng = random.Random(f"alfworld-suite-{SUITE_VERSION}-{split}-{index}")
    layout = rng.choice(_layouts_for(split, task_type))
    goal = rng.choice(goal_candidates(layout, task_type))
    return layout, goal, rng


@lru_cache(maxsize=512)
def _build(split: str, index: int, task_type: str, grammar: str) -> Game:
    layout, goal, rng = _draw(split, index, task_type)
    problem = generate_problem(layout, goal, rng, grammar)
    return compile_game(problem, source=f"{split}-{index:04d}")

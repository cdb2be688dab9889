"""``SPA-ALFWorld-v0``: ALFWorld as a Gymnasium text environment, on the native engine.

By default the env plays the generated task suite (:mod:`.suite`), offline. Given real ALFWorld
game files (``game_files=[...]`` or ``data_dir=``), it plays those in the same engine, with each
file's own grammar (2.1.1 ``put X in/on Y`` or 2.1.3 ``move X to Y``).

Example:
    >>> import gymnasium as gym
    >>> import spa_gym
    >>> env = gym.make("SPA-ALFWorld-v0", split="valid_seen")
    >>> obs, info = env.reset(seed=0)
    >>> obs.splitlines()[0]
    '-= Welcome to TextWorld, ALFRED! =-'
    >>> obs, reward, terminated, truncated, info = env.step("look")
    >>> obs, info["grounded"]
    ('You are in the middle of a room. Looking quickly around you, you see nothing.', True)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from ..base import TextEnv
from .engine import Episode
from .expert import Explorer, expert_action
from .game import Game, compile_game
from .pddl import GAME_FILE, find_game_files, load_problem, resolve_game_file
from .problem import GRAMMARS
from .suite import SPLITS, TaskSuite


class ALFWorldEnv(TextEnv):
    """ALFWorld's text world: go to receptacles, open them, take, put, heat, cool, clean, use lamps.

    Args:
        split: ``"train"`` (3,553 tasks), ``"valid_seen"`` (140) or ``"valid_unseen"`` (134) of the
            generated suite.
        grammar: text version of the generated suite: ``"2.1.1"`` (``put X in/on Y``, "You arrive at
            loc N.", no ``help``; what SPA-RL, ETO and AgentGym use) or ``"2.1.3"`` (``move X to Y``,
            "You arrive at R.", ``help``). Game files always use their own.
        game_files: real ALFWorld ``game.tw-pddl`` files (or their trial folders) to play instead of
            the suite.
        data_dir: a folder of real ALFWorld games (e.g. ``json_2.1.1/valid_unseen``); its playable games
            are added to ``game_files`` as ALFWorld selects them.
        render_mode: ``"ansi"`` or ``"human"``.
        expert: what :meth:`expert_action` follows: ``"full"`` (knows the whole state: shortest
            plans) or ``"explorer"`` (knows only what the agent has seen and searches; its
            demonstrations can be imitated from observations, so use it for SFT data).

    ``reset`` options: ``task_id`` (a suite id such as ``"train-0042"``, or a game file's path),
    ``task_index``, or ``game_file`` (any ALFWorld game file). Without options a task is drawn
    with the env's seeded RNG. ``info`` has the contract keys plus ``task_type``, ``grammar`` and
    ``gamefile`` (the game file, or ``""`` for suite tasks). ``info["state_key"]`` digests the task id,
    the grammar and the engine's whole state (:meth:`.Episode.world_state`); ``clone_state`` saves the
    engine's episode (sharing the immutable game) and the explorer's memory.
    """

    has_expert = True

    def __init__(
        self,
        split: str = "train",
        grammar: str = "2.1.1",
        game_files: list[str | os.PathLike[str]] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        render_mode: str | None = None,
        expert: str = "full",
    ):
        super().__init__(render_mode=render_mode)
        if expert not in ("full", "explorer"):
            raise ValueError(f"expert must be 'full' or 'explorer', got {expert!r}")
        self.explorer = Explorer() if expert == "explorer" else None
        if grammar not in GRAMMARS:
            raise ValueError(f"unknown ALFWorld grammar {grammar!r}; expected one of {GRAMMARS}")
        if split not in SPLITS:
            raise ValueError(f"unknown ALFWorld split {split!r}; expected one of {SPLITS}")
        files = [resolve_game_file(path) for path in game_files or []]
        if data_dir is not None:
            found = find_game_files(data_dir)
            if not found:
                raise ValueError(f"no playable ALFWorld games (solvable game.tw-pddl files) under {data_dir}")
            files.extend(found)
        self.game_files: list[Path] = files
        self.suite: TaskSuite | None = None if files else TaskSuite(split, grammar)
        self._file_games: dict[Path, Game] = {}
        self.episode: Episode | None = None
        self.gamefile = ""
        self._key_cache: tuple[tuple | None, str, str] = (None, "", "")  # (world, task id, its digest)
        self._things_repr: tuple[tuple | None, str] = (None, "")  # (engine state's things, their repr)

    # -- tasks ------------------------------------------------------------------------------------
    def num_tasks(self) -> int:
        """How many tasks ``reset`` draws from."""
        return len(self.game_files) if self.suite is None else len(self.suite)

    def task_ids(self) -> list[str]:
        """Every task id ``reset(options={"task_id": ...})`` accepts besides arbitrary game files."""
        if self.suite is None:
            return [str(path) for path in self.game_files]
        return [self.suite.task_id(i) for i in range(len(self.suite))]

    def _load_file(self, path: Path) -> Game:
        if path not in self._file_games:
            self._file_games[path] = compile_game(load_problem(path), source=str(path))
        return self._file_games[path]

    def _select(self, options: dict[str, Any]) -> tuple[Game, str, str]:
        """(game, task id, game file) for the reset options."""
        unknown = set(options) - {"task_id", "task_index", "game_file"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; use task_id, task_index or game_file")
        if "game_file" in options:
            path = resolve_game_file(options["game_file"])
            return self._load_file(path), str(path), str(path)
        if "task_id" in options:
            task_id = str(options["task_id"])
            if self.suite is not None and not task_id.endswith(GAME_FILE) and not Path(task_id).exists():
                index = self.suite.index_of(task_id)
                return self.suite.game(index), task_id, ""
            path = resolve_game_file(task_id)
            return self._load_file(path), str(path), str(path)
        if "task_index" in options:
            index = int(options["task_index"])
            if not 0 <= index < self.num_tasks():
                raise IndexError(f"task_index {index} out of range: this env has {self.num_tasks()} tasks")
        else:
            index = int(self.np_random.integers(self.num_tasks()))
        if self.suite is None:
            path = self.game_files[index]
            return self._load_file(path), str(path), str(path)
        return self.suite.game(index), self.suite.task_id(index), ""

    # -- TextEnv hooks ----------------------------------------------------------------------------
    def _reset_task(self, options: dict[str, Any]) -> str:
        game, self.task_id, self.gamefile = self._select(options)
        self.episode = Episode(game)
        if self.explorer is not None:
            self.explorer.reset()
        self.task = game.goal_text
        return self.episode.intro()

    def _step_text(self, action: str) -> tuple[str, float, bool, bool]:
        episode = self._require_episode()
        observation, grounded = episode.step(action)
        self.won = episode.won
        return observation, 1.0 if self.won else 0.0, self.won, grounded

    def admissible_actions(self) -> list[str]:
        return self._require_episode().admissible_commands()

    def _extra_info(self) -> dict[str, Any]:
        game = self._require_episode().game
        return {"task_type": game.goal.task_type, "grammar": game.grammar, "gamefile": self.gamefile}

    # -- states, for credit assignment ------------------------------------------------------------
    def _world_state(self) -> Hashable:
        """``(task id, grammar, the engine's state)``; see :meth:`.Episode.world_state`."""
        episode = self._require_episode()
        return (self.task_id, episode.game.grammar, episode.world_state())

    def state_key(self) -> str:
        # The same digest as TextEnv.state_key, of the same repr, built from cached parts: the
        # engine keeps its state tuple until the world changes and its "things" part across
        # "go to", so a step pays for the repr of what it changed only.
        world = self._require_episode().world_state()
        cached_world, cached_task, key = self._key_cache
        if world is cached_world and self.task_id == cached_task:
            return key
        location, won, things = world
        if things is not self._things_repr[0]:
            self._things_repr = (things, repr(things))
        text = f"({self.task_id!r}, {self.episode.game.grammar!r}, ({location!r}, {won!r}, {self._things_repr[1]}))"
        key = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        self._key_cache = (world, self.task_id, key)
        return key

    def _episode_state(self) -> tuple[Episode, str, frozenset[int] | None]:
        """The engine's episode (its deep copy shares the immutable game), the game file, and what
        the explorer expert has seen."""
        seen = frozenset(self.explorer.seen) if self.explorer is not None else None
        return (self._require_episode(), self.gamefile, seen)

    def _load_episode_state(self, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) == 3 and isinstance(state[0], Episode)):
            raise TypeError(
                f"restore_state takes a state that an ALFWorld env's clone_state returned, "
                f"got {type(state).__name__}"
            )
        self.episode, self.gamefile, seen = state
        if self.explorer is not None:
            self.explorer.seen = set(seen or ())

    # -- extras -----------------------------------------------------------------------------------
    def expert_action(self) -> str | None:
        """The expert's next command from the current state (``None`` once won or when stuck)."""
        if self.explorer is not None:
            return self.explorer.action(self._require_episode())
        return expert_action(self._require_episode())

    def _require_episode(self) -> Episode:
        if self.episode is None:
            raise RuntimeError("call reset() before step() or before asking for the state")
        return self.episode


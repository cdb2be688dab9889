"""``SPA-VirtualHome-v0``: VirtualHome as SPA-RL/STeCa play it, as a Gymnasium text environment.

The agent reads ``The task is Watch TV(Walk to the living room. ...).`` and answers with actions in
words (``walk to home office``, ``switch on television``; a ReAct ``Thought: ... Action: ...``
output works too). Each action goes through SPA-RL/STeCa's text protocol (:mod:`.text`) into a
VirtualHome script line that the evolving-graph simulator (:mod:`.simulator`) executes; the reply is
the states of what the character is close to, or ``Nothing happens.``. The episode is won, with
reward 1.0, when the task's goal conditions hold (:mod:`.tasks`); SPA-RL's limit of 40 steps comes
from the registration (``max_episode_steps``).

Reset rebuilds everything (graph, bindings, goal tracking) from the task, unlike SPA-RL's
exploration scripts, whose ``reset`` kept the previous rollout's world.

A rejected command can still move the hidden name binder, as in SPA-RL/STeCa, whose binding runs
before the command is checked: ``fly bedroom`` answers ``Nothing happens.`` yet binds ``bedroom``
and makes it the last object used, so a following ``walk to light`` goes to the bedroom's light
rather than to the one it would have gone to. ``info["bindings_changed"]`` tells when a step did
this; ``keep_bindings_on_reject=True`` makes rejected commands leave the binder as it was.

Example:
    >>> env = VirtualHomeEnv(split="test_seen")
    >>> obs, info = env.reset(options={"task_id": "test_seen-0000"})
    >>> obs
    'The task is Pick up phone(find the phone and pick it up).'
    >>> env.expert_action()
    'Walk to phone'
    >>> obs, reward, terminated, truncated, info = env.step("walk to phone")
    >>> obs, info["grounded"]
    ('coffee_table is CLEAN, phone is OFF and PLUGGED_IN and CLEAN, phone ON coffee_table. ', True)
    >>> env.step("grab phone")[1:3]
    (1.0, True)
    >>> env.step("walk to kitchen")[0]
    'Nothing happens.'
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..base import TextEnv
from .expert import expert_command
from .loader import Program, graph_diff_success, revised_graph
from .script import ScriptLine, parse_script_line
from .simulator import Simulator
from .tasks import SPLITS, Goal, GoalTracker, Task, TaskSuite
from .text import TEMPLATES, Binder, Outcome, act, humanize_command, render_observation

#: Classes never offered in ``admissible_actions`` (structure, not things to act on).
_STRUCTURE = frozenset({"floor", "wall", "ceiling", "window", "doorjamb", "door", "ceilinglamp", "walllamp",
                        "powersocket", "character", "cpuscreen", "stovefan", "curtain", "photoframe", "orchid"})
_TEMPLATE_RANK = {action: rank for rank, (action, _, _) in enumerate(TEMPLATES)}


class VirtualHomeEnv(TextEnv):
    """VirtualHome's households: walk, grab, open, switch on, sit, watch, type... to do a chore.

    Args:
        split: ``"train"`` (2,000 tasks), ``"test_seen"`` (247) or ``"test_unseen"`` (247: held-out
            layouts and unseen activity compositions) of the generated suite.
        strict_parity: reproduce SPA-RL/STeCa's nondeterministic quirks (class-wide state listing,
            random binding of unknown names with the env's RNG, ``Error Input...`` on an empty
            action); see :mod:`.text`.
        keep_bindings_on_reject: after a rejected step (``Nothing happens.`` or ``Error Input...``,
            ``info["grounded"]`` False), put the binder back as it was before the step: its name ->
            id bindings, its last object bound and, with ``strict_parity``, the RNG draws it made (the
            env's RNG is rewound). Off by default: the original binds a command's names even when the
            command then fails.
        render_mode: ``"ansi"`` or ``"human"``.
        graph: a VirtualHome graph dict of your own (e.g. a TrimmedTestScene init graph); needs
            ``program``.
        program: with ``graph``: a :class:`.loader.Program` or ``{"title", "description", "script"}``
            (script lines such as ``[WALK] <bedroom> (67)`` or ``(1.67)``). The episode is won when
            the graph matches what the program ends in, by STeCa's graph-diff check (changed nodes
            equal, removed edges absent, added edges present); the first id of each class in the
            program is pre-bound, like their ``object_id_dict``; the expert replays the program's
            lines (it does not replan). SPA-RL/STeCa drop mutual INSIDE edge pairs first: pass
            ``loader.drop_mutual_inside(graph)`` for that.

    ``reset`` options: ``task_id`` (``"train-0042"``) or ``task_index``; without them a task is drawn
    with the env's seeded RNG. ``info`` has the contract keys plus ``task_type`` (activity),
    ``title``, ``goal`` (the conditions as text), ``goal_progress`` (fraction met), ``layout_id``,
    ``script_line`` (the bound line of the last step, ``""`` if none), ``error`` (why the last
    step failed, hidden from the agent; ``""`` otherwise) and ``bindings_changed`` (whether the last
    step added or changed a name -> id binding or changed the last object bound, rejected steps
    included; False after ``reset`` and, with ``keep_bindings_on_reject``, after every rejected step).

    ``admissible_actions`` is spa-gym's addition (the original offers no list): walking to the other
    rooms and to the visible things of this room, then, for the things the character is CLOSE to
    and holds, the template commands whose main preconditions hold (grab, open/close, switch, plug,
    sit/lie, turn to/watch, put X on/in Y, drop, read, drink, put on, wash, eat, type, stand up,
    sleep). It is a cheap guide, not a guarantee: a listed command can still fail.

    ``info["state_key"]`` digests the task (with ``graph=``, also a digest of the graph and program),
    the simulator's state (:meth:`.Simulator.world_state`: what differs from the task's initial graph,
    VirtualHome's replayed set orders, what PUTOBJBACK would put back), the binder's name -> id
    bindings and last object bound, and how far the goal's ordered actions are matched (with
    ``graph=``, how far the program is replayed, which the expert follows). The RNG is not in it;
    ``clone_state`` saves it apart.
    """

    has_expert = True

    def __init__(
        self,
        split: str = "train",
        strict_parity: bool = False,
        keep_bindings_on_reject: bool = False,
        render_mode: str | None = None,
        graph: Mapping[str, Any] | None = None,
        program: Mapping[str, Any] | Any | None = None,
    ):
        super().__init__(render_mode=render_mode)
        if split not in SPLITS:
            raise ValueError(f"unknown VirtualHome split {split!r}; expected one of {SPLITS}")
        if (graph is None) != (program is None):
            raise ValueError("graph= and program= go together: pass a VirtualHome graph dict and the program "
                             "({'title', 'description', 'script'}) whose end state is the goal")
        self.split = split
        self.strict_parity = bool(strict_parity)
        self.keep_bindings_on_reject = bool(keep_bindings_on_reject)
        self.suite: TaskSuite | None = TaskSuite(split) if graph is None else None
        self.custom = None if graph is None else _ProgramTask(graph, program)
        self.sim: Simulator | None = None
        self.binder: Binder | None = None
        self.tracker: GoalTracker | None = None
        self.current: Task | None = None
        self._goal_text: list[str] = []
        self._last: Outcome | None = None
        self._bindings_changed = False
        self._visible: frozenset[int] | None = None
        self._admissible: list[str] | None = None
        self._rooms: frozenset[int] = frozenset()
        self._walks = _WalkMemo()
        self._task_index = -1
        self._identity: Any = ""  # the task id; with graph=, (task id, digest of the graph and program)
        self._suite_id: Any = split if self.custom is None else (self.custom.task.task_id, self.custom.fingerprint)
        # (world state, state key) of the current state, until a step changes the world or the binder
        self._state_cache: tuple[tuple, str] | None = None
        self._bindings_cache: tuple[dict[str, int] | None, tuple, str] = (None, (), "()")  # (copy, sorted, repr)

    # -- tasks ------------------------------------------------------------------------------------
    def num_tasks(self) -> int:
        """How many tasks ``reset`` draws from."""
        return 1 if self.suite is None else len(self.suite)

    def task_ids(self) -> list[str]:
        """Every task id ``reset(options={"task_id": ...})`` accepts."""
        if self.suite is None:
            return ["custom-0000"]
        return [self.suite.task_id(i) for i in range(len(self.suite))]

    def _select(self, options: dict[str, Any]) -> int:
        unknown = set(options) - {"task_id", "task_index"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; use task_id or task_index")
        if "task_id" in options:
            if self.suite is None:
                if options["task_id"] != "custom-0000":
                    raise ValueError(f"unknown task id {options['task_id']!r}: this env plays one program, "
                                     f"'custom-0000'")
                return 0
            return self.suite.index_of(options["task_id"])
        if "task_index" in options:
            index = int(options["task_index"])
            if not 0 <= index < self.num_tasks():
                raise IndexError(f"task_index {index} out of range: this env has {self.num_tasks()} tasks")
            return index
        return int(self.np_random.integers(self.num_tasks()))

    # -- TextEnv hooks ----------------------------------------------------------------------------
    def _reset_task(self, options: dict[str, Any]) -> str:
        index = self._select(options)
        pristine = self._install_task(index)
        self.sim = pristine.clone()
        self.binder = Binder(self.current.bindings, strict=self.strict_parity, rng=self.np_random)
        self.tracker = GoalTracker(self.current.goal)
        if self.custom is not None:
            self.custom.reset()
        self._goal_text = self.custom.describe() if self.custom is not None else self.current.goal.describe(
            self.sim.class_name)
        self._last = None
        self._bindings_changed = False
        return self.task

    def _install_task(self, index: int) -> Simulator:
        """Make task ``index`` the current one (task, ids, rooms; caches emptied); its initial simulator."""
        if self.custom is not None:
            task, (pristine, self._rooms) = self.custom.task, self.custom.start
            self._identity = self._suite_id
        else:
            task, (pristine, self._rooms) = self.suite.task(index), _start(self.split, index)
            self._identity = task.task_id
        self.current = task
        self._task_index = index
        self.task_id = task.task_id
        self.task = task.message
        self._visible = self._admissible = None
        self._walks = _WalkMemo()
        self._state_cache = None
        return pristine

    def _step_text(self, action: str) -> tuple[str, float, bool, bool]:
        sim, binder, tracker = self._require()
        before = binder.snapshot()
        outcome = act(action, sim, binder, strict=self.strict_parity, render=False)
        if not outcome.success and self.keep_bindings_on_reject:
            binder.restore(before)
        self._bindings_changed = binder.changed_since(before)
        if outcome.success or self._bindings_changed:
            self._state_cache = None
        if outcome.success:
            self._admissible = None
            self._visible = sim.visible_ids()
            outcome = Outcome(render_observation(sim, strict=self.strict_parity, visible=self._visible),
                              outcome.success, outcome.line, outcome.error)
            tracker.record(outcome.line)
            if self.custom is not None:
                self.custom.record(outcome.line)
            self.won = self.custom.satisfied(sim) if self.custom is not None else tracker.satisfied(sim)
        self._last = outcome
        return outcome.observation, 1.0 if self.won else 0.0, self.won, outcome.success

    def admissible_actions(self) -> list[str]:
        sim, _, _ = self._require()
        # kept until a step succeeds: the list reads the simulator alone (never the binder, which a
        # rejected step may change), and a rejected step leaves the simulator as it was
        if self._admissible is None:
            if self._visible is None:
                self._visible = sim.visible_ids()
            self._admissible = _commands(sim, self._visible, self._rooms, self._walks)
        return list(self._admissible)

    def _extra_info(self) -> dict[str, Any]:
        sim, _, tracker = self._require()
        task = self.current
        last = self._last
        progress = (self.custom.progress(sim) if self.custom is not None
                    else task.goal.progress(sim, tracker.matched))
        return {
            "task_type": task.activity, "title": task.title, "goal": list(self._goal_text),
            "goal_progress": progress, "layout_id": task.layout_id,
            "script_line": "" if last is None or last.line is None else str(last.line),
            "error": "" if last is None or last.success else last.error,
            "bindings_changed": self._bindings_changed,
        }

    # -- states, for credit assignment ------------------------------------------------------------
    def _world_state(self) -> Hashable:
        """``(task, simulator state, bindings, last object bound, goal actions matched, program lines
        replayed)``; see the class docstring."""
        return self._state()[0]

    def state_key(self) -> str:
        # TextEnv.state_key's digest of the same repr, built from the simulator's kept repr
        return self._state()[1]

    def _state(self) -> tuple[tuple, str]:
        if self._state_cache is None:
            sim, binder, tracker = self._require()
            if self._bindings_cache[0] != binder.bindings:
                bindings = tuple(sorted(binder.bindings.items()))
                self._bindings_cache = (dict(binder.bindings), bindings, repr(bindings))
            _, bindings, bindings_text = self._bindings_cache
            done = self.custom.done if self.custom is not None else 0
            sim_world, sim_text = sim.world_state_and_repr()
            world = (self._identity, sim_world, bindings, binder.last_id, tracker.matched, done)
            text = (f"({self._identity!r}, {sim_text}, {bindings_text}, {binder.last_id!r}, {tracker.matched!r}, "
                    f"{done!r})")
            self._state_cache = (world, hashlib.blake2b(text.encode(), digest_size=16).hexdigest())
        return self._state_cache

    def _episode_state(self) -> _Episode:
        sim, binder, tracker = self._require()
        return _Episode(self._suite_id, self._task_index, sim, dict(binder.bindings), binder.last_id, tracker.matched,
                        self.custom.done if self.custom is not None else 0, self._last, self._bindings_changed,
                        tuple(self._goal_text), self._visible, self._admissible, self._walks)

    def _load_episode_state(self, state: Any) -> None:
        if not isinstance(state, _Episode):
            raise TypeError(f"restore_state takes a state that a VirtualHome env's clone_state returned, "
                            f"got an episode of {type(state).__name__}")
        if state.suite != self._suite_id:
            raise ValueError(f"this state is of another task suite ({state.suite!r}), not this env's "
                             f"({self._suite_id!r})")
        self._install_task(state.task_index)
        self.sim = state.sim
        self.binder = Binder(state.bindings, strict=self.strict_parity, rng=self.np_random)
        self.binder.last_id = state.last_id
        self.tracker = GoalTracker(self.current.goal)
        self.tracker.matched = state.matched
        if self.custom is not None:
            self.custom.done = state.program_done
        self._goal_text = list(state.goal_text)
        self._last = state.last
        self._bindings_changed = state.bindings_changed
        # what the saved episode had worked out about its state (visible things, commands, walks)
        self._visible, self._admissible, self._walks = state.visible, state.admissible, state.walks

    # -- extras -----------------------------------------------------------------------------------
    def expert_action(self) -> str | None:
        """The expert's next command from the current state (``None`` once won or when stuck)."""
        sim, binder, tracker = self._require()
        if self.won:
            return None
        if self.custom is not None:
            return self.custom.next_command(sim)
        return expert_command(sim, binder, self.current.goal, tracker.matched, strict=self.strict_parity)

    def _require(self) -> tuple[Simulator, Binder, GoalTracker]:
        if self.sim is None or self.binder is None or self.tracker is None:
            raise RuntimeError("call reset() before step() or before asking for the state")
        return self.sim, self.binder, self.tracker


@dataclass
class _Episode:
    """What ``clone_state`` keeps of a VirtualHome episode. Its deep copy clones the simulator (the
    static node data and the loaded graph stay shared, edge sets are copied on write)."""

    suite: Any  # the split, or (task id, fingerprint) of an own graph and program
    task_index: int
    sim: Simulator
    bindings: dict[str, int]
    last_id: int
    matched: int
    program_done: int
    last: Outcome | None
    bindings_changed: bool
    goal_text: tuple[str, ...]
    # the env's answers for this state, kept so that a restored episode need not work them out again
    visible: frozenset[int] | None
    admissible: list[str] | None
    walks: _WalkMemo

    def __deepcopy__(self, memo: dict) -> _Episode:
        return _Episode(self.suite, self.task_index, self.sim.clone(), dict(self.bindings), self.last_id,
                        self.matched, self.program_done, self.last, self.bindings_changed, self.goal_text,
                        self.visible, None if self.admissible is None else list(self.admissible), self.walks.copy())


@lru_cache(maxsize=32)
def _start(split: str, index: int) -> tuple[Simulator, frozenset[int]]:
    """A suite task's initial simulator (parsed once, cloned at each reset) and its room ids."""
    return _starting_point(TaskSuite(split).task(index).graph)


def _starting_point(graph: Mapping[str, Any]) -> tuple[Simulator, frozenset[int]]:
    sim = Simulator(graph)
    return sim, sim.room_ids()


# --------------------------------------------------------------------------------------------------
# Admissible commands.
# --------------------------------------------------------------------------------------------------

def admissible_commands(sim: Simulator, *, visible: frozenset[int] | None = None,
                        rooms: frozenset[int] | None = None) -> list[str]:
    """spa-gym's list of likely-valid commands in the state of ``sim`` (see :class:`VirtualHomeEnv`);
    ``visible`` (``sim.visible_ids()``) and ``rooms`` (the room ids) may be passed when known.

    Example:
        >>> env = VirtualHomeEnv(split="test_seen")
        >>> _ = env.reset(options={"task_index": 0})
        >>> admissible_commands(env.sim)[:3]
        ['Walk to bathroom', 'Walk to dining room', 'Walk to home office']
    """
    if visible is None:
        visible = sim.visible_ids()
    if rooms is None:
        rooms = frozenset(i for i in visible if sim.room_of(i) == i)
    return _commands(sim, visible, rooms, _WalkMemo())


class _WalkMemo:
    """The walk commands (:func:`_walks`, sorted, without repeats) of one episode, kept for the last
    ``(visible, room, held)`` they were listed for: walking about a room changes none of the three."""

    __slots__ = ("key", "walks")

    def __init__(self) -> None:
        self.key: tuple[frozenset[int], int | None, tuple[int, ...]] | None = None
        self.walks: list[tuple[int, str]] = []

    def copy(self) -> _WalkMemo:
        """An independent copy (for a saved episode)."""
        twin = _WalkMemo()
        twin.key, twin.walks = self.key, list(self.walks)
        return twin

    def get(self, sim: Simulator, visible: frozenset[int], rooms: frozenset[int],
            held: tuple[int, ...]) -> list[tuple[int, str]]:
        key = (visible, sim.room_of(sim.character_id), held)
        if key != self.key:
            self.key, self.walks = key, sorted(set(_walks(sim, visible, rooms, held, key[1])))
        return self.walks


def _commands(sim: Simulator, visible: frozenset[int], rooms: frozenset[int], memo: _WalkMemo) -> list[str]:
    """:func:`admissible_commands`, with the episode's walk memo."""
    char, name = sim.character_id, sim.class_name
    commands: set[tuple[int, str]] = set()

    def add(action: str, *names: str) -> None:
        commands.add((_TEMPLATE_RANK[action], humanize_command(action, names)))

    states = sim.states(char)
    seated = "SITTING" in states or "LYING" in states
    held = sorted({i for i in sim.held() if i is not None})
    if seated:
        add("STANDUP")
        add("SLEEP")
        walks: list[tuple[int, str]] = []
    else:
        walks = memo.get(sim, visible, rooms, tuple(held))
    facing = sim.targets(char, "FACING")
    surfaces: list[tuple[int, str]] = []
    for node_id in sorted(sim.targets(char, "CLOSE")):
        if node_id not in visible or node_id in held:
            continue
        node = name(node_id)
        if node in _STRUCTURE:
            continue
        props, node_states = sim.properties(node_id), sim.states(node_id)
        if "GRABBABLE" in props and len(held) < 2:
            add("GRAB", node)
        if "CAN_OPEN" in props:
            add("CLOSE" if "OPEN" in node_states else "OPEN", node)
        if "HAS_SWITCH" in props:
            add("SWITCHOFF" if "ON" in node_states else "SWITCHON", node)
        if "HAS_PLUG" in props and "PLUGGED_OUT" in node_states:
            add("PLUGIN", node)
        if not seated and "SITTABLE" in props:
            add("SIT", node)
        if "LIEABLE" in props and "LYING" not in states:
            add("LIE", node)
        if "LOOKABLE" in props:
            add("WATCH" if node_id in facing else "TURNTO", node)
        if "EATABLE" in props:
            add("EAT", node)
        if "DIRTY" in node_states or "BODY_PART" in props:
            add("WASH", node)
        if node == "keyboard":
            add("TYPE", node)
        if "SURFACES" in props or ("CONTAINERS" in props and "CLOSED" not in node_states):
            surfaces.append((node_id, node))
    for item in held:
        props, item_name = sim.properties(item), name(item)
        add("DROP", item_name)
        if "READABLE" in props:
            add("READ", item_name)
        if "DRINKABLE" in props or "RECIPIENT" in props:
            add("DRINK", item_name)
        if "CLOTHES" in props:
            add("PUTON", item_name)
        for target, target_name in surfaces:
            if target_name != item_name:
                add("PUTIN" if "CONTAINERS" in sim.properties(target) else "PUTBACK", item_name, target_name)
    # walks rank apart from every other command (no repeats across the two); sorting finds walks already sorted
    return [text for _, text in sorted([*walks, *commands])]


def _walks(sim: Simulator, visible: frozenset[int], rooms: frozenset[int], held: tuple[int, ...],
           here: int | None) -> list[tuple[int, str]]:
    """``(rank, "Walk to X")`` for the rooms other than ``here`` (first) and the visible things of this room."""
    walks = [(-1, humanize_command("WALK", (sim.class_name(room),))) for room in rooms if room != here]
    rank = _TEMPLATE_RANK["WALK"]
    for node_id in visible:  # the character's room, held objects and rooms
        if node_id in rooms or node_id in held:
            continue
        name = sim.class_name(node_id)
        if name not in _STRUCTURE and "BODY_PART" not in sim.properties(node_id):
            walks.append((rank, humanize_command("WALK", (name,))))
    return walks


# --------------------------------------------------------------------------------------------------
# A user's own graph and program.
# --------------------------------------------------------------------------------------------------

class _ProgramTask:
    """A graph and a program of the user's: the goal is the program's end state, checked as STeCa
    does (:func:`.loader.graph_diff_success` against :func:`.loader.revised_graph`); the first id of
    each class in the program is pre-bound (their ``object_id_dict``); the expert replays the program."""

    def __init__(self, graph: Mapping[str, Any], program: Program | Mapping[str, Any] | Any):
        def field(name: str) -> Any:
            value = program.get(name) if isinstance(program, Mapping) else getattr(program, name, None)
            if value is None and name == "script":
                value = program.get("lines") if isinstance(program, Mapping) else getattr(program, "lines", None)
            if value is None:
                raise ValueError(f"program= needs a {name!r} (title, description and script lines), "
                                 f"got {program!r:.120}")
            return value

        title, description = str(field("title")), str(field("description"))
        lines = [line if isinstance(line, ScriptLine) else parse_script_line(str(line), dataset_ids=True)
                 for line in field("script")]
        self.start = _starting_point(graph)
        final = self.start[0].clone()
        for line in lines:
            ok, message = final.execute(line)
            if not ok:
                raise ValueError(f"program line {str(line)!r} fails on the graph: {message}")
        self.lines = tuple(lines)
        self.commands = [humanize_command(line.action, [name for name, _ in line.args]) for line in lines]
        revised = revised_graph(self.start[0].graph(), final.graph())
        self.parts = [{"nodes": [node]} for node in revised["nodes"]]
        self.parts += [{"revised_nodes": [edge]} for edge in revised["revised_nodes"]]
        self.parts += [{"revised_add_edges": [edge]} for edge in revised["revised_add_edges"]]
        self.revised = revised
        bindings: dict[str, int] = {}
        for line in lines:
            for name, node_id in line.args:
                bindings.setdefault(name, node_id)
        self.task = Task("custom-0000", "custom", title, description, 0, 0, dict(graph), Goal(),
                         tuple(sorted(bindings.items())))
        self.done = 0
        identity = (title, description, tuple(map(str, lines)), self.start[0].character_id, self.start[0].graph())
        #: A digest of the graph and the program, which the state key adds to the task id.
        self.fingerprint = hashlib.blake2b(repr(identity).encode(), digest_size=8).hexdigest()

    def reset(self) -> None:
        self.done = 0

    def record(self, line: ScriptLine) -> None:
        if self.done < len(self.lines) and line == self.lines[self.done]:
            self.done += 1

    def next_command(self, sim: Simulator) -> str | None:
        return self.commands[self.done] if self.done < len(self.commands) else None

    def satisfied(self, sim: Simulator) -> bool:
        return graph_diff_success(sim, self.revised)

    def progress(self, sim: Simulator) -> float:
        if not self.parts:
            return 1.0
        return sum(graph_diff_success(sim, part) for part in self.parts) / len(self.parts)

    def describe(self) -> list[str]:
        revised = self.revised
        return ([f"{node['class_name']} ({node['id']}) {' and '.join(sorted(node['states']))}"
                 for node in revised["nodes"]]
                + [f"no edge {e['from_id']} {e['relation_type']} {e['to_id']}" for e in revised["revised_nodes"]]
                + [f"edge {e['from_id']} {e['relation_type']} {e['to_id']}" for e in revised["revised_add_edges"]])

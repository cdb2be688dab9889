"""The SPA-RL/STeCa text protocol of VirtualHome: actions in words -> script lines -> observations.

This reproduces ``eval_agent/envs/virtualhome_env.py`` of SPA-RL and STeCa, written from its
observed behaviour (no code of it is used):

* **Action text.** If the text contains ``Action:``, what follows its first occurrence (and one
  optional whitespace character) is the action, as their ``parse_action`` takes it; otherwise the
  whole text is (spa-gym agents usually send the bare command). The action is lower-cased and
  stripped, and everything up to the first ``:`` is cut off.
* **Templates.** The action must match exactly one of the templates of :data:`TEMPLATES` (full
  match, ``{}`` = any non-empty text, as the ``parse`` library matches). 42 are listed; RELEASE's has
  no slot for its argument and never counts, which leaves the 41 the research names. Argument
  spaces become ``_``: ``walk to dining room`` -> ``[WALK] <dining_room>``. Otherwise the fallback
  splits the *original* text (after the ``:`` cut) on single spaces: 1 word -> ``[W]``,
  2 -> ``[W] <x>``, 3 -> ``[W] <x> <y>``, more -> ``[W] <rest_joined>``, with ``W`` upper-cased.
  So ``release cup`` works through the fallback, and ``walk to kitchen`` fails later because
  VirtualHome's kitchen is ``dining_room`` (class-name equivalence is off, as in theirs).
* **Binding** (:class:`Binder`) gives each class name a graph id; bindings persist for the episode
  and start from the task's pre-bound names (the dataset's ``object_id_dict``). It runs before the
  action name is checked, so ``fly cup`` binds ``cup`` (and makes it the last object used) and then
  fails, as theirs does; the env's ``keep_bindings_on_reject`` undoes that (:meth:`Binder.restore`).
* **Execution** needs a known action with the right number of arguments; the simulator's verdict is
  the step's success.
* **Observation** (:func:`render_observation`) after a success: the states of the visible objects the
  character is CLOSE to (``sink is CLEAN``), the ON/BETWEEN relations among them, then
  ``You have X.`` for held objects; each sentence ends with ``". "`` (a trailing space, as theirs).
  Walking into a room gives ``""``. Any failure gives ``Nothing happens.``

``strict_parity=True`` keeps their nondeterministic quirks: every node of a close class is listed
(``dresser is OPEN, dresser is CLOSED``), relations also cover close objects that share a visible
class, and names not bound yet go to a random instance (drawn with the env's RNG) unless an object
of that class is close to the character or to the last object used, where the later candidate
wins. By default spa-gym is deterministic: objects are listed once each by id, states in
:data:`.vocabulary.STATE_ORDER`, and a new name binds to the lowest id among the objects CLOSE to
the character, else among those CLOSE to, inside or containing the last object used, else in the
character's room, else in the house. (Their set-based listing order cannot be reproduced; spa-gym
keeps graph order in both modes.) An empty action answers ``Nothing happens.``; with
``strict_parity`` it answers their ``Error Input. Your input must contains 'Action: '``.

Example:
    >>> parse_command("Walk to dining room")
    Command(action='WALK', args=('dining_room',))
    >>> parse_command("Thought: I need a drink.\\nAction: put water glass on kitchen counter")
    Command(action='PUTBACK', args=('water_glass', 'kitchen_counter'))
    >>> parse_command("release cup")
    Command(action='RELEASE', args=('cup',))
    >>> humanize_command("PUTIN", ("food_food", "fridge"))
    'Put food food in fridge'
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .script import ScriptLine
from .simulator import Simulator
from .vocabulary import humanize, order_states

NOTHING_HAPPENS = "Nothing happens."
#: What SPA-RL/STeCa answer when the output has no action (``strict_parity`` only).
ERROR_INPUT = "Error Input. Your input must contains 'Action: '"

#: The action templates of SPA-RL/STeCa, in their order: ``(action, arguments, template)``.
TEMPLATES: tuple[tuple[str, int, str], ...] = (
    ("CLOSE", 1, "close {}"), ("DRINK", 1, "drink {}"), ("FIND", 1, "find {}"), ("WALK", 1, "walk to {}"),
    ("GRAB", 1, "grab {}"), ("LOOKAT", 1, "look at {}"), ("OPEN", 1, "open {}"), ("POINTAT", 1, "point at {}"),
    ("PUTBACK", 2, "put {} on {}"), ("PUTIN", 2, "put {} in {}"), ("PUTOBJBACK", 1, "put back {}"),
    ("RUN", 1, "run to {}"), ("SIT", 1, "sit on {}"), ("STANDUP", 0, "stand up"), ("SWITCHOFF", 1, "switch off {}"),
    ("SWITCHON", 1, "switch on {}"), ("TOUCH", 1, "touch {}"), ("TURNTO", 1, "turn to {}"), ("WATCH", 1, "watch {}"),
    ("WIPE", 1, "wipe {}"), ("PUTON", 1, "put on {}"), ("PUTOFF", 1, "take off {}"), ("GREET", 1, "greet {}"),
    ("DROP", 1, "drop {}"), ("READ", 1, "read {}"), ("LIE", 1, "lie on {}"), ("POUR", 2, "pour {} into {}"),
    ("TYPE", 1, "type on {}"), ("PUSH", 1, "push {}"), ("PULL", 1, "pull {}"), ("MOVE", 1, "move {}"),
    ("WASH", 1, "wash {}"), ("RINSE", 1, "rinse {}"), ("SCRUB", 1, "scrub {}"), ("SQUEEZE", 1, "squeeze {}"),
    ("PLUGIN", 1, "plug in {}"), ("PLUGOUT", 1, "plug out {}"), ("CUT", 1, "cut {}"), ("EAT", 1, "eat {}"),
    ("SLEEP", 0, "sleep"), ("WAKEUP", 0, "wake up"), ("RELEASE", 1, "release"),
)
#: Action name -> number of arguments, for every action the protocol accepts.
ARITY: dict[str, int] = {action: arity for action, arity, _ in TEMPLATES}
_TEMPLATE_OF: dict[str, str] = {action: template for action, _, template in TEMPLATES}
#: The compiled templates that can match (those whose slots equal the action's arguments).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (action, re.compile("(.+?)".join(re.escape(part) for part in template.split("{}")), re.DOTALL | re.IGNORECASE))
    for action, arity, template in TEMPLATES if template.count("{}") == arity
)
#: The same, by the first word of their template. A lower-case ASCII text can only match a template it
#: starts with (word for word), so only those of its first word need trying.
_PATTERNS_BY_WORD: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    word: tuple((action, pattern) for action, pattern in _PATTERNS if _TEMPLATE_OF[action].split(" ")[0] == word)
    for word in dict.fromkeys(_TEMPLATE_OF[action].split(" ")[0] for action, _ in _PATTERNS)
}
_ACTION_MARK = re.compile(r"Action:\s?(.*)", re.DOTALL)
#: Relations left out of observations.
_HIDDEN_RELATIONS = frozenset({"CLOSE", "FACING", "INSIDE", "HOLDS_LH", "HOLDS_RH"})
_SHOWN_RELATIONS = ("ON", "BETWEEN", "SITTING")
_SCRIPT_CHARS = frozenset("<>()[]")


@dataclass(frozen=True)
class Command:
    """An action in script form before binding: the action name and the class names of its arguments."""

    action: str
    args: tuple[str, ...] = ()


def extract_action(text: str) -> str:
    """The action part of an agent's output: after the first ``Action:`` if any, else the text.

    Example:
        >>> extract_action("Thought: thirsty.\\nAction: drink water glass")
        'drink water glass'
        >>> extract_action("  walk to bedroom ")
        'walk to bedroom'
    """
    text = text.strip()
    match = _ACTION_MARK.search(text)
    return match.group(1) if match else text


def parse_command(text: str) -> Command | None:
    """The script form of an action text (see the module docstring); None for an empty action.

    The result may name an unknown action or carry the wrong number of arguments; binding and
    execution reject those.
    """
    action_text = extract_action(text)
    line = action_text.lower().strip()
    if not line:
        return None
    if ":" in line:
        line = line[line.index(":") + 1:].strip()
    candidates = _PATTERNS_BY_WORD.get(line.split(" ", 1)[0], ()) if line.isascii() else _PATTERNS
    matches = [(action, match) for action, pattern in candidates if (match := pattern.fullmatch(line))]
    if len(matches) == 1:
        action, match = matches[0]
        return Command(action, tuple(arg.replace(" ", "_") for arg in match.groups()))
    raw = action_text
    if ":" in raw:
        raw = raw[raw.index(":") + 1:].strip()
    if not raw:
        return Command("EMPTY")
    words = raw.split(" ")
    if len(words) <= 3:
        return Command(words[0].upper(), tuple(words[1:]))
    return Command(words[0].upper(), ("_".join(words[1:]),))


def humanize_command(action: str, class_names: Iterable[str] = ()) -> str:
    """The gold action-list form of a script action: ``Walk to dining room``, ``Put pillow on bed``.

    Example:
        >>> humanize_command("SWITCHON", ["television"])
        'Switch on television'
    """
    return _humanize(action, tuple(class_names))


@lru_cache(maxsize=8192)
def _humanize(action: str, class_names: tuple[str, ...]) -> str:
    text = _TEMPLATE_OF[action].format(*(humanize(name) for name in class_names))
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------------------------------
# Binding.
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bound:
    """A command bound to graph ids (``line``), or why binding failed (``error``, ``line`` None)."""

    line: ScriptLine | None
    error: str = ""


@dataclass(frozen=True)
class BinderState:
    """What a :class:`Binder` held at one moment (:meth:`Binder.snapshot`): a copy of its bindings,
    its ``last_id`` and, with ``strict``, its RNG's bit-generator state (None otherwise)."""

    bindings: dict[str, int]
    last_id: int
    rng: dict[str, Any] | None


class Binder:
    """Class names -> graph ids for one episode (their ``change_obj_index``).

    ``bindings`` starts as the task's pre-bound names and grows with every name bound; ``last_id`` is
    the last object bound (-1 at first). ``rng`` (a numpy Generator) is only used with ``strict``.
    Binding happens before the command is checked or executed, so a failed command may still change
    both (as theirs does); :meth:`snapshot` and :meth:`restore` undo that.
    """

    def __init__(self, bindings: dict[str, int] | Iterable[tuple[str, int]] = (), *, strict: bool = False,
                 rng: np.random.Generator | None = None):
        self.bindings: dict[str, int] = dict(bindings)
        self.last_id = -1
        self.strict = strict
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def copy(self) -> Binder:
        """An independent copy (the RNG too), for dry runs."""
        twin = Binder(self.bindings, strict=self.strict, rng=copy.deepcopy(self.rng) if self.strict else self.rng)
        twin.last_id = self.last_id
        return twin

    def snapshot(self) -> BinderState:
        """The bindings, ``last_id`` and (with ``strict``, the only mode that draws) the RNG state now."""
        return BinderState(dict(self.bindings), self.last_id, self.rng.bit_generator.state if self.strict else None)

    def restore(self, state: BinderState) -> None:
        """Put back what :meth:`snapshot` took: the bindings, ``last_id`` and the RNG (the same Generator
        object, rewound, so an RNG shared with the env is rewound too)."""
        self.bindings.clear()
        self.bindings.update(state.bindings)
        self.last_id = state.last_id
        if state.rng is not None:
            self.rng.bit_generator.state = state.rng

    def changed_since(self, state: BinderState) -> bool:
        """Whether the bindings (name -> id) or ``last_id`` differ from ``state``'s (RNG draws aside)."""
        return self.last_id != state.last_id or self.bindings != state.bindings

    def bind(self, command: Command, sim: Simulator) -> Bound:
        """Bind ``command``'s class names to ids, updating the bindings as theirs does."""
        args = command.args
        if any(not name or _SCRIPT_CHARS.intersection(name) for name in args):
            return Bound(None, f"{' '.join(args)!r} is not an object name")
        if len(args) == 0:
            return Bound(ScriptLine(command.action) if command.action in ARITY and ARITY[command.action] == 0
                         else None, "")
        if len(args) == 1:
            name = args[0]
            node_id = self._resolve(name, sim)
            if node_id is None:
                return Bound(None, f"{name} isn't available in the environment.")
            self.last_id = node_id
            return self._line(command, ((name, node_id),))
        first, second = args[0], args[1]
        held = sorted({i for i in sim.held() if i is not None and sim.class_name(i) == first})
        if not held:
            return Bound(None, f"{first} not in hand. Robot agent should hold {first} firstly.")
        first_id = int(self.rng.choice(held)) if self.strict else held[0]
        self.bindings[first] = first_id
        second_id = self._resolve(second, sim)
        if second_id is None:
            return Bound(None, f"{second} isn't available in the environment.")
        if first_id == second_id:
            return Bound(None, f"{first} can't be put or pour into itself.")
        self.last_id = second_id
        return self._line(command, ((first, first_id), (second, second_id)))

    @staticmethod
    def _line(command: Command, args: tuple[tuple[str, int], ...]) -> Bound:
        if ARITY.get(command.action) != len(args):
            return Bound(None, f"{command.action} is not an action taking {len(args)} argument(s)")
        return Bound(ScriptLine(command.action, args))

    def _resolve(self, name: str, sim: Simulator) -> int | None:
        if name in self.bindings:
            return self.bindings[name]
        ids = sim.nodes_by_class(name)
        if not ids:
            return None
        node_id = self._near(name, sim, ids)
        self.bindings[name] = node_id
        return node_id

    def _near(self, name: str, sim: Simulator, ids: list[int]) -> int:
        char = sim.character_id
        agent_close = sim.targets(char, "CLOSE") | sim.sources("CLOSE", char)
        if self.strict:
            found = None
            for group in (agent_close, self._last_near(sim)):
                for node_id in list(set(group)):
                    if sim.class_name(node_id) == name:
                        found = node_id
            return found if found is not None else int(self.rng.choice(ids))
        candidates = [i for i in agent_close if sim.class_name(i) == name]
        if not candidates:
            candidates = [i for i in self._last_near(sim) if sim.class_name(i) == name]
        if candidates:
            return min(candidates)
        room = sim.room_of(char)
        return next((i for i in ids if sim.room_of(i) == room), ids[0])

    def _last_near(self, sim: Simulator) -> frozenset[int]:
        """What is CLOSE to, inside or containing the last object bound (nothing before the first)."""
        last = self.last_id
        if last == -1:
            return frozenset()
        return (sim.targets(last, "CLOSE") | sim.sources("CLOSE", last)
                | sim.targets(last, "INSIDE") | sim.sources("INSIDE", last))


# --------------------------------------------------------------------------------------------------
# Observations.
# --------------------------------------------------------------------------------------------------

def _describe(sim: Simulator, node_id: int) -> str:
    return _description(sim.class_name(node_id), sim.states(node_id))


@lru_cache(maxsize=4096)
def _description(name: str, states: frozenset[str]) -> str:
    return f"{name} is {' and '.join(order_states(states))}" if states else name


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def render_observation(sim: Simulator, *, strict: bool = False, visible: frozenset[int] | None = None) -> str:
    """The observation after a successful step (see the module docstring); ``visible`` is
    ``sim.visible_ids()`` if the caller has it already.

    Example:
        >>> sim = Simulator({"nodes": [
        ...     {"id": 1, "class_name": "bathroom", "category": "Rooms", "properties": [], "states": []},
        ...     {"id": 2, "class_name": "character", "category": "Characters", "properties": [], "states": []},
        ...     {"id": 3, "class_name": "sink", "category": "Furniture", "properties": [], "states": ["CLEAN"]},
        ...     {"id": 4, "class_name": "soap", "category": "Props", "properties": ["GRABBABLE"],
        ...      "states": ["CLEAN"]}],
        ...   "edges": [{"from_id": i, "relation_type": "INSIDE", "to_id": 1} for i in (2, 3, 4)]
        ...          + [{"from_id": 4, "relation_type": "ON", "to_id": 3}]})
        >>> render_observation(sim)
        ''
        >>> sim.execute("[WALK] <soap> (4)")[0], render_observation(sim)
        (True, 'sink is CLEAN, soap is CLEAN, soap ON sink. ')
        >>> sim.execute("[GRAB] <soap> (4)")[0], render_observation(sim)
        (True, 'sink is CLEAN, soap is CLEAN. You have soap. ')
    """
    char = sim.character_id
    close = sim.targets(char, "CLOSE")
    if visible is None:
        visible = sim.visible_ids() if close else frozenset()
    close_visible = sorted(close.intersection(visible))
    if strict:
        classes = {sim.class_name(i) for i in close_visible}
        related = sorted(i for i in close if sim.class_name(i) in classes)
        listed: Iterable[int] = [i for i in sim.node_ids() if sim.class_name(i) in classes]
    else:
        related = close_visible
        listed = close_visible
    objects = _dedupe(_describe(sim, i) for i in listed)
    members = set(related)
    relations = _dedupe(
        f"{sim.class_name(a)} {relation} {sim.class_name(b)}"
        for a in related for relation in _SHOWN_RELATIONS for b in sorted(sim.targets(a, relation)) if b in members
    )
    text = ", ".join(objects + relations) + ". " if objects or relations else ""
    held = sorted({i for i in sim.held() if i is not None})
    if held:
        text += f"You have {', '.join(sim.class_name(i) for i in held)}. "
    return text


# --------------------------------------------------------------------------------------------------
# One step of the protocol.
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What one action text did: the observation, whether the simulator accepted it, the bound
    script line (None if parsing or binding failed) and the reason of a failure (hidden from agents)."""

    observation: str
    success: bool
    line: ScriptLine | None
    error: str


def act(text: str, sim: Simulator, binder: Binder, *, strict: bool = False, render: bool = True) -> Outcome:
    """Parse, bind and execute one action text on ``sim`` (mutated on success); with ``render=False``
    the observation of a success is left empty (for dry runs).

    Example:
        >>> sim = Simulator({"nodes": [
        ...     {"id": 1, "class_name": "kitchen", "category": "Rooms", "properties": [], "states": []},
        ...     {"id": 2, "class_name": "character", "category": "Characters", "properties": [], "states": []}],
        ...   "edges": [{"from_id": 2, "relation_type": "INSIDE", "to_id": 1}]})
        >>> act("walk to kitchen", sim, Binder())
        Outcome(observation='', success=True, line=ScriptLine(action='WALK', args=(('kitchen', 1),)), error='')
        >>> act("walk to living room", sim, Binder()).observation
        'Nothing happens.'
    """
    command = parse_command(text)
    if command is None:
        return Outcome(ERROR_INPUT if strict else NOTHING_HAPPENS, False, None, "empty action")
    bound = binder.bind(command, sim)
    if bound.line is None:
        error = bound.error or f"unknown action {command.action!r} or wrong number of arguments"
        return Outcome(NOTHING_HAPPENS, False, None, error)
    success, message = sim.execute(bound.line)
    if not success:
        return Outcome(NOTHING_HAPPENS, False, bound.line, message or "the simulator refused the action")
    return Outcome(render_observation(sim, strict=strict) if render else "", True, bound.line, message)


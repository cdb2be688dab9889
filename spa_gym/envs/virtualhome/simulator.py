"""VirtualHome's evolving-graph simulator, natively: one script line at a time on a graph state.

:class:`Simulator` executes lines the way VirtualHome's ``ScriptExecutor.execute_one_step`` does
with ``instance_selection=True`` (objects are chosen by id; the class name in ``<...>`` is ignored),
as shipped in eai-eval 1.0.5, the copy SPA-RL/STeCa-style environments run. Each action checks its
preconditions in VirtualHome's order and, on failure, leaves the state untouched and returns
VirtualHome's message (``<reason> when executing "<line> [0]"``); on success it applies the same
edge and state changes. Quirks kept on purpose (all seen in the real simulator):

* closeness is loose: the character is "close" to X if it is CLOSE to X, or CLOSE to something that is
  CLOSE to X or that X lies ON; facing is loose the same way (for LOOKAT/POINTAT/WATCH);
* FIND of an object that is not close walks there (exactly WALK); WALK/RUN only fail while sitting or
  lying, or (silently, with an empty message) when the target is in no room; doors never block;
* WALK makes the character CLOSE to the target, the containers it is INSIDE, what it stands ON,
  all body parts and, for openable targets, what is inside; held objects move to the room the
  character walked *from*; STANDUP keeps the character's ON edge to the seat;
* GRAB strips the object's ON/INSIDE/CLOSE/HOLDS edges in both directions (things on or in it lose
  that edge too), becomes CLOSE to the object's first support (ON, else INSIDE, else CLOSE, rooms
  skipped; possibly the character itself) and remembers it for PUTOBJBACK; "first" is VirtualHome's
  Python-set order, which :meth:`Graph.ordered_targets <.graph.Graph.ordered_targets>` replays;
  re-grabbing fails until the object is put down (PUTBACK/PUTIN/DROP/RELEASE), even after PUTON;
* PLUGOUT of an appliance that is ON succeeds but still reports ``is still on``; PUTOBJBACK whose
  destination is not reachable succeeds without changing anything (message kept);
* POINTAT checks facing like LOOKAT; PUSH never fails the MOVABLE test (PULL/MOVE do).

Where the real simulator raises instead of answering (unknown action, wrong argument count, a
non-integer id, WALK/FIND/OPEN/CLOSE on an id absent from the graph, WATCH of an object in no room,
LOOKAT_SHORT/LOOKAT_LONG), :meth:`Simulator.execute` returns ``(False, message)`` and
:meth:`Simulator.execute_detailed` also names the exception the real one raises (``raised``).

Example:
    >>> sim = Simulator({"nodes": [
    ...     {"id": 1, "class_name": "kitchen", "category": "Rooms", "properties": [], "states": []},
    ...     {"id": 2, "class_name": "character", "category": "Characters", "properties": [], "states": []},
    ...     {"id": 3, "class_name": "table", "category": "Furniture", "properties": ["SURFACES"], "states": []},
    ...     {"id": 4, "class_name": "cup", "category": "Props", "properties": ["GRABBABLE"], "states": []}],
    ...   "edges": [{"from_id": 2, "relation_type": "INSIDE", "to_id": 1},
    ...             {"from_id": 3, "relation_type": "INSIDE", "to_id": 1},
    ...             {"from_id": 4, "relation_type": "INSIDE", "to_id": 1},
    ...             {"from_id": 4, "relation_type": "ON", "to_id": 3}]})
    >>> sim.execute("[GRAB] <cup> (4)")
    (False, '<character> (2) is not close to <cup> (4) when executing "[GRAB] <cup> (4) [0]"')
    >>> sim.execute("[WALK] <table> (3)"), sim.execute("[GRAB] <cup> (4)")
    ((True, ''), (True, ''))
    >>> sim.held(), sorted(sim.targets(2, "CLOSE"))
    ((4, None), [3, 4])
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .graph import Graph, GraphError, NodeInfo
from .script import ScriptError, ScriptLine, format_script_line, parse_script_line, script_object_name

__all__ = ["ExecutionResult", "GraphDiff", "Simulator"]

_SITTING, _LYING = "SITTING", "LYING"
_HANDS = ("HOLDS_RH", "HOLDS_LH")
#: How many things may be ON a seat before SIT / LIE refuse (VirtualHome's tables; default 1).
_SIT_CAPACITY = {"couch": 4, "bed": 4, "chair": 1, "loveseat": 2, "sofa": 4, "toilet": 1, "pianobench": 2,
                 "bench": 2}
_LIE_CAPACITY = {"couch": 2, "bathtub": 2, "bed": 3, "loveseat": 2, "sofa": 2, "bench": 1}
_SQUEEZABLE = frozenset({"cleaning_solution", "tooth_paste", "shampoo", "food_peanut_butter", "dish_soap", "soap",
                         "towel", "rag", "paper", "sponge", "food_lemon", "check"})
_POUR_TARGETS = frozenset({"hands_both", "sponge", "face"})
#: Classes GRAB takes without the GRABBABLE property.
_GRAB_CLASSES = ("water", "child")
_NONE_ATTRIBUTE = "'NoneType' object has no attribute '{}'"
#: A handler's answer for a success that keeps the very same state (VirtualHome makes no new state).
_SAME_STATE = 2
#: How a line fails when one of its objects is not in the graph, where VirtualHome differs from the usual
#: ``<name> (id) cannot be found`` of error type ``unseen``: ``(error type, the attribute that VirtualHome
#: reads from None and so raises on, or None where it does not raise)``.
_WHEN_MISSING: dict[str, tuple[str | None, str | None]] = {
    "WALK": (None, "category"), "RUN": (None, "category"), "FIND": (None, "id"),
    "OPEN": ("unseen", "properties"), "CLOSE": ("unseen", "properties"), "PUTOBJBACK": (None, None),
}
_UNSEEN: tuple[str | None, str | None] = ("unseen", None)


@dataclass(frozen=True)
class ExecutionResult:
    """Everything VirtualHome reports for one line.

    ``message`` is ``ExecutionInfo.get_error_string()`` (empty on a clean success; a few quirky
    successes carry one); where the real simulator raises, it is a description of the problem and
    ``raised`` is ``(exception type, exception message)`` as the real one raises it. ``error_type``
    (``afford``, ``missing``, ``satisfied``, ``unseen`` or None) and ``missing_preconds``
    (``(negate, precondition dict)`` pairs) are eai-eval's failure classification.
    """

    success: bool
    message: str
    error_type: str | None = None
    missing_preconds: tuple[tuple[bool, dict[str, Any]], ...] = ()
    raised: tuple[str, str] | None = None


@dataclass(frozen=True)
class GraphDiff:
    """What changed between two states: edges as ``(from_id, relation, to_id)``, and per node whose
    states changed, ``(states before, states after)``."""

    edges_added: frozenset[tuple[int, str, int]]
    edges_removed: frozenset[tuple[int, str, int]]
    states_changed: dict[int, tuple[frozenset[str], frozenset[str]]]


class _Raise(Exception):
    """The real simulator raises here: its exception type and message, and what went wrong in words."""

    def __init__(self, kind: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.kind, self.message, self.reason = kind, message, reason


class _Info:
    """VirtualHome's ExecutionInfo for one line: messages, error type, missing preconditions."""

    __slots__ = ("error_type", "line", "messages", "missing")

    def __init__(self, line: ScriptLine) -> None:
        self.line = line
        self.messages: list[str] = []
        self.error_type: str | None = None
        self.missing: list[tuple[bool, dict[str, Any]]] = []

    @property
    def line_text(self) -> str:
        """The line as VirtualHome prints it in messages."""
        return format_script_line(self.line, index=0)

    def error(self, reason: str, error_type: str | None = None, *missing: tuple[bool, dict[str, Any]]) -> bool:
        """Record a message (a failure, or the warning of a quirky success); returns False, so that a
        failing check can ``return info.error(...)``."""
        self.messages.append(f'{reason} when executing "{self.line_text}"')
        if error_type is not None:
            self.error_type = error_type
        self.missing.extend(missing)
        return False


def _no_node(node_id: object) -> KeyError:
    return KeyError(f"no node with id {node_id!r} in the graph")


def _lacks(negate: bool, from_id: int, relation: str, to_id: int) -> tuple[bool, dict[str, Any]]:
    return negate, {"from_id": from_id, "relation": relation, "to_id": to_id}


def _lacks_state(negate: bool, node_id: int, state: str) -> tuple[bool, dict[str, Any]]:
    return negate, {"id": node_id, "state": state}


def _afford(info: _Info, node: NodeInfo, properties: tuple[str, ...], refusal: str,
            classes: Collection[str] = ()) -> bool:
    """Whether ``node`` has one of ``properties`` or is of one of ``classes``; else the ``afford``
    failure ``<node> <refusal>``."""
    if not node.properties.isdisjoint(properties) or node.class_name in classes:
        return True
    return info.error(f"{node} {refusal}", "afford")


@dataclass(frozen=True, slots=True)
class _Toggle:
    """A state switch (OPEN/CLOSE, SWITCHON/SWITCHOFF, PLUGIN/PLUGOUT), checked in VirtualHome's order:
    the node affords it (``properties`` or ``classes``, else ``<node> <refusal>``), is close, a hand is
    free if ``free_hand``, the node is ``before`` (else ``is not <before>``) and not ``blocker`` (else
    ``<node> <blocker_reason>``; reported only, the switch still happens, unless ``blocks``)."""

    properties: tuple[str, ...]
    refusal: str
    before: str
    after: str
    free_hand: bool = False
    classes: tuple[str, ...] = ()
    blocker: str | None = None
    blocker_reason: str = ""
    blocks: bool = True


@dataclass(frozen=True, slots=True)
class _Posture:
    """SIT or LIE: the character's state, the property the seat needs (else ``<seat> <refusal>``), how
    many things may be ON it (``capacity`` by class, default 1), the posture it replaces and whether
    the character takes the seat's facing."""

    state: str
    needed: tuple[str, ...]
    refusal: str
    capacity: Mapping[str, int]
    replaces: str
    faces_like_seat: bool


class Simulator:
    """A VirtualHome graph state that executes script lines; see the module docstring.

    ``graph`` is validated (:class:`GraphError` on anything malformed) and copied; the character is
    ``character_id`` or else the ``character`` node with the smallest id, and must be INSIDE a room.
    """

    __slots__ = ("_body_parts", "_g", "_grabbed", "_nodes", "_rooms", "_visible", "character_id")

    def __init__(self, graph: Mapping[str, Any], *, character_id: int | None = None) -> None:
        self._g = Graph.from_dict(graph)
        self._nodes = self._g.nodes()
        self._rooms = self._g.room_ids()
        if character_id is None:
            characters = self._g.ids_of_class("character")
            if not characters:
                raise GraphError("graph: no node with class_name 'character' (the agent); pass character_id= "
                                 "to use another node")
            character_id = characters[0]
        elif not isinstance(character_id, int) or isinstance(character_id, bool) or character_id not in self._g:
            raise GraphError(f"character_id {character_id!r} is not the id of any node")
        self.character_id: int = character_id
        if self.room_of(character_id) is None:
            raise GraphError(f"the character {self._g.info(character_id)} is not INSIDE any room "
                             f"(a node with category 'Rooms')")
        self._body_parts = tuple(sorted(n for n, info in self._nodes.items() if "BODY_PART" in info.properties))
        # Set order only matters where room_of / visible_ids (INSIDE) and GRAB (a grabbable's supports) read it.
        self._g.keep_order_only(("INSIDE",), (n for n, info in self._nodes.items()
                                              if "GRABBABLE" in info.properties or info.class_name in _GRAB_CLASSES))
        # VirtualHome's executor_data: grabbed object id -> (its support when grabbed, relation), for PUTOBJBACK.
        self._grabbed: dict[int, tuple[int, str]] = {}
        # The last visible_ids answer: (the character's room, the step count it needs or None, the answer).
        self._visible: tuple[int, int | None, frozenset[int]] | None = None

    # ----------------------------------------------------------------- public API
    def execute(self, line: str | ScriptLine) -> tuple[bool, str]:
        """Run one script line; ``(success, message)`` as VirtualHome reports them. Never raises on a str."""
        result = self.execute_detailed(line)
        return result.success, result.message

    def execute_detailed(self, line: str | ScriptLine) -> ExecutionResult:
        """Run one script line and return the full :class:`ExecutionResult`."""
        if isinstance(line, str):
            try:
                line = parse_script_line(line)
            except ScriptError as error:
                return ExecutionResult(False, str(error), raised=(error.simulator_exception, error.simulator_message))
        elif not isinstance(line, ScriptLine):
            raise TypeError(f"a script line must be a str or ScriptLine, got {type(line).__name__}")
        info = _Info(line)
        handler = _HANDLERS.get(line.action)
        try:
            if handler is None:  # LOOKAT_SHORT / LOOKAT_LONG: VirtualHome calls its fallback executor wrongly
                raise _Raise("TypeError", "UnknownExecutor.execute() takes 5 positional arguments but 7 were given",
                             f"{line.action} is not supported by the simulator")
            nodes = self._objects(line, info)
            success = False if nodes is None else handler(self, line, info, *nodes)
        except _Raise as error:
            message = ",".join(info.messages) or f'{error.reason} when executing "{info.line_text}"'
            return ExecutionResult(False, message, info.error_type, tuple(info.missing), (error.kind, error.message))
        if success is True:
            self._g.commit_step()
        return ExecutionResult(bool(success), ",".join(info.messages), info.error_type, tuple(info.missing))

    def graph(self) -> dict[str, list[dict[str, Any]]]:
        """The current graph as a VirtualHome graph dict (a fresh copy; nodes by id, edges sorted)."""
        return self._g.to_dict()

    def clone(self) -> Simulator:
        """An independent copy; cheap (edge sets are shared until either copy writes to them)."""
        twin = Simulator.__new__(Simulator)
        twin._g = self._g.clone()
        twin.character_id = self.character_id
        twin._grabbed = dict(self._grabbed)
        twin._nodes = self._nodes
        twin._body_parts = self._body_parts
        twin._rooms = self._rooms
        twin._visible = None
        return twin

    def world_state(self) -> tuple[tuple, tuple]:
        """The state in a canonical form, equal exactly when two states of the same initial graph are
        the same: ``(graph, grabbed)``, the graph's :meth:`Graph.world_state <.graph.Graph.world_state>`
        and, sorted, ``(object id, (support, relation))`` for what PUTOBJBACK would put back where."""
        return self.world_state_and_repr()[0]

    def world_state_and_repr(self) -> tuple[tuple[tuple, tuple], str]:
        """``(world_state(), repr(world_state()))``, cheaply: the graph keeps its part between steps."""
        graph, text = self._g.world_state_and_repr()
        grabbed = tuple(sorted(self._grabbed.items())) if self._grabbed else ()
        return (graph, grabbed), f"({text}, {grabbed!r})"

    def diff(self, before: Simulator) -> GraphDiff:
        """The changes from ``before`` (a :meth:`clone` taken earlier) to now; fast, it compares only
        what either copy wrote to since the clone."""
        added, removed, states = self._g.diff(before._g)
        return GraphDiff(frozenset(added), frozenset(removed),
                         {n: (frozenset(old), frozenset(new)) for n, (old, new) in states.items()})

    # ----------------------------------------------------------------- queries
    def node(self, node_id: int) -> dict[str, Any]:
        """``{"id", "class_name", "category", "properties", "states"}`` of a node (a fresh dict)."""
        info = self._info(node_id)
        return {"id": info.id, "class_name": info.class_name, "category": info.category,
                "properties": list(info.property_list), "states": list(self._g.states(node_id))}

    def full_node(self, node_id: int) -> dict[str, Any]:
        """The node as the graph dict has it: :meth:`node` plus any other fields it was given
        (``prefab_name``, ``bounding_box``...)."""
        self._info(node_id)
        return self._g.node_dict(node_id)

    def node_ids(self) -> Iterable[int]:
        """Every node id (graph order)."""
        return self._g.node_ids()

    def nodes_by_class(self, class_name: str) -> list[int]:
        """Ids of the nodes of a class, sorted."""
        return list(self._g.ids_of_class(class_name))

    def class_name(self, node_id: int) -> str:
        """The node's class name."""
        try:
            return self._nodes[node_id].class_name
        except (KeyError, TypeError):
            pass
        raise _no_node(node_id)

    def states(self, node_id: int) -> frozenset[str]:
        """The node's current states."""
        try:
            return frozenset(self._g.states(node_id))
        except (KeyError, TypeError):
            pass
        raise _no_node(node_id)

    def properties(self, node_id: int) -> frozenset[str]:
        """The node's properties (they never change)."""
        try:
            return self._nodes[node_id].properties
        except (KeyError, TypeError):
            pass
        raise _no_node(node_id)

    def has_edge(self, from_id: int, relation: str, to_id: int) -> bool:
        """Whether ``from_id --relation--> to_id`` is in the graph."""
        return self._g.has_edge(from_id, relation, to_id)

    def targets(self, from_id: int, relation: str) -> frozenset[int]:
        """Ids ``t`` with ``from_id --relation--> t``."""
        return frozenset(self._g.targets(from_id, relation))

    def sources(self, relation: str, to_id: int) -> frozenset[int]:
        """Ids ``f`` with ``f --relation--> to_id``."""
        return frozenset(self._g.sources(relation, to_id))

    def edges(self) -> Iterable[tuple[int, str, int]]:
        """Every edge as ``(from_id, relation, to_id)``, sorted."""
        return self._g.edges()

    def room_of(self, node_id: int) -> int | None:
        """The room a node is in, found as VirtualHome does: a room is its own room; a node INSIDE
        several nodes is in the room among them (None if none is a room); a node INSIDE one node
        is in that node's room, following INSIDE edges upwards."""
        try:
            if node_id not in self._nodes:
                return None
        except TypeError:  # not an id
            return None
        g, rooms = self._g, self._rooms
        if node_id in rooms:
            return node_id
        inside = g.targets(node_id, "INSIDE")
        if len(inside) > 1:
            found = [n for n in inside if n in rooms]
            if len(found) > 1:
                found = [n for n in g.ordered_targets(node_id, "INSIDE") if n in rooms]
            return found[0] if found else None
        seen = {node_id}
        while inside:  # VirtualHome follows the first INSIDE target upwards (it loops forever on a cycle)
            if len(inside) == 1:
                (current,) = inside
            else:
                current = g.ordered_targets(node_id, "INSIDE")[0]
            if current in rooms:
                return current
            if current in seen:
                return None
            seen.add(current)
            node_id, inside = current, g.targets(current, "INSIDE")
        return None

    def room_ids(self) -> frozenset[int]:
        """Ids of the rooms (the nodes of category ``Rooms``)."""
        return self._rooms

    def held(self) -> tuple[int | None, int | None]:
        """``(right hand, left hand)``: the ids the character holds, or None."""
        right = self._g.targets(self.character_id, "HOLDS_RH")
        left = self._g.targets(self.character_id, "HOLDS_LH")
        return (min(right) if right else None, min(left) if left else None)

    def visible_ids(self) -> frozenset[int]:
        """What VirtualHome's ``get_visible_nodes`` keeps: every room, the held objects, and the
        nodes inside the character's room (INSIDE chains) whose container is a room or OPEN. Like
        VirtualHome, a node INSIDE several nodes is judged by the one listed last in set order.

        The answer is kept, and given again while the room is the same and no INSIDE or HOLDS edge and
        no OPEN state differs (walking about a room changes none of them), unless a node INSIDE several
        nodes replays its order at every step (:meth:`Graph.shown_inside <.graph.Graph.shown_inside>`)."""
        g, char = self._g, self.character_id
        inside = g.targets(char, "INSIDE")  # never empty: the character is always INSIDE a room
        if len(inside) == 1:
            (room,) = inside
        else:
            room = g.ordered_targets(char, "INSIDE")[-1]
        last = self._visible
        if (last is not None and last[0] == room and (last[1] is None or last[1] == g.step_count())
                and not g.visibility_changed()):
            return last[2]
        shown, by_step = g.shown_inside(room)
        visible = set(self._rooms)
        visible.update(g.targets(char, "HOLDS_RH"))
        visible.update(g.targets(char, "HOLDS_LH"))
        visible.update(shown)
        answer = frozenset(visible)
        g.mark_visibility()
        self._visible = (room, g.step_count() if by_step else None, answer)
        return answer

    # ----------------------------------------------------------------- helpers
    def _info(self, node_id: int) -> NodeInfo:
        try:
            return self._nodes[node_id]
        except (KeyError, TypeError):
            pass
        raise _no_node(node_id)

    def _char(self) -> NodeInfo:
        return self._g.info(self.character_id)

    def _objects(self, line: ScriptLine, info: _Info) -> list[NodeInfo] | None:
        """The line's objects; None once the first one missing from the graph is reported as
        VirtualHome reports it for this action (``_WHEN_MISSING``; :class:`_Raise` where it raises)."""
        nodes = []
        for name, node_id in line.args:
            node = self._g.get_info(node_id)
            if node is None:
                error_type, attribute = _WHEN_MISSING.get(line.action, _UNSEEN)
                reason = f"<{script_object_name(name)}> ({node_id}) cannot be found"
                info.error(reason, error_type)
                if attribute is not None:
                    raise _Raise("AttributeError", _NONE_ATTRIBUTE.format(attribute), reason)
                return None
            nodes.append(node)
        return nodes

    def _is_close(self, node_id: int) -> bool:
        g, char = self._g, self.character_id
        close = g.targets(char, "CLOSE")
        if node_id in close:
            return True
        return not close.isdisjoint(g.sources("CLOSE", node_id)) or not close.isdisjoint(g.targets(node_id, "ON"))

    def _faces(self, node_id: int) -> bool:
        g = self._g
        facing = g.targets(self.character_id, "FACING")
        return node_id in facing or not facing.isdisjoint(g.sources("FACING", node_id))

    def _free_hand(self) -> str | None:
        for hand in _HANDS:
            if not self._g.targets(self.character_id, hand):
                return hand
        return None

    def _holds(self, node_id: int) -> bool:
        char = self.character_id
        return any(self._g.has_edge(char, hand, node_id) for hand in _HANDS)

    def _in_hands(self) -> list[int]:
        """What the character holds, left hand first (the order VirtualHome goes through them)."""
        g, char = self._g, self.character_id
        return [n for hand in ("HOLDS_LH", "HOLDS_RH") for n in g.targets(char, hand)]

    def _in_closed(self, node_id: int) -> bool:
        g = self._g
        return any("CLOSED" in g.states(c) and not g.info(c).is_room for c in g.targets(node_id, "INSIDE"))

    def _set_state(self, node_id: int, remove: tuple[str, ...], add: str) -> None:
        states = tuple(s for s in self._g.states(node_id) if s not in remove)
        self._g.set_states(node_id, states if add in states else states + (add,))

    def _add_both(self, a: int, relation: str, b: int) -> None:
        self._g.add_edge(a, relation, b)
        self._g.add_edge(b, relation, a)

    def _let_go(self, node_id: int) -> None:
        for hand in _HANDS:
            self._g.remove_edge(self.character_id, hand, node_id)

    def _stop_facing(self) -> None:
        g, char = self._g, self.character_id
        for target in tuple(g.targets(char, "FACING")):
            g.remove_edge(char, "FACING", target)

    # -- shared precondition messages
    def _need_close(self, node: NodeInfo, info: _Info) -> bool:
        return self._is_close(node.id) or info.error(f"{self._char()} is not close to {node}", "missing",
                                                     _lacks(False, self.character_id, "CLOSE", node.id))

    def _need_holding(self, node: NodeInfo, info: _Info) -> bool:
        return self._holds(node.id) or info.error(f"{self._char()} is not holding {node}", "missing",
                                                  _lacks(False, self.character_id, "HOLDS", node.id))

    def _need_free_hand(self, info: _Info) -> bool:
        return self._free_hand() is not None or info.error(f"{self._char()} does not have a free hand", "missing",
                                                           _lacks(True, self.character_id, "HOLDS", -1))

    def _need_not_in_closed(self, node: NodeInfo, info: _Info) -> bool:
        return not self._in_closed(node.id) or info.error(f"{node} is inside other closed thing", "missing",
                                                          _lacks_state(False, node.id, "OPEN"))

    def _need_face(self, node: NodeInfo, info: _Info) -> bool:
        return self._faces(node.id) or info.error(f"{self._char()} does not face {node}", "missing",
                                                  _lacks(False, self.character_id, "FACING", node.id))

    # ----------------------------------------------------------------- actions
    # Each takes the line, its info and the line's objects, already found in the graph (_objects), and
    # answers True (a new state), False (failed) or _SAME_STATE.
    def _walk(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:  # also RUN
        g, char = self._g, self.character_id
        node_room = self.room_of(node.id)
        char_states = g.states(char)
        if _SITTING in char_states or _LYING in char_states:
            return info.error(f"{self._char()} is sitting", "missing", _lacks_state(True, char, _SITTING),
                              _lacks_state(True, char, _LYING))
        if node_room is None:
            return False
        old_room = self.room_of(char)
        held = self._in_hands()
        g.remove_all(char, ("INSIDE", "CLOSE", "FACING"))
        g.add_edge(char, "INSIDE", node_room)
        if node_room != node.id:
            for container in tuple(g.targets(node.id, "INSIDE")):
                if not g.info(container).is_room:
                    self._add_both(char, "CLOSE", container)
            for part in self._body_parts:
                self._add_both(char, "CLOSE", part)
            self._add_both(char, "CLOSE", node.id)
        for item in held:
            g.remove_all(item, ("INSIDE", "CLOSE", "FACING"))
        for item in held:
            self._add_both(char, "CLOSE", item)
            g.add_edge(item, "INSIDE", old_room)
        if "CAN_OPEN" in node.properties:
            for inner in tuple(g.sources("INSIDE", node.id)):
                self._add_both(char, "CLOSE", inner)
        for support in tuple(g.targets(node.id, "ON")):
            self._add_both(char, "CLOSE", support)
        return True

    def _find(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        if not (self._g.has_edge(node.id, "ON", self.character_id) or "BODY_PART" in node.properties
                or self._is_close(node.id)):
            return self._walk(line, info, node)
        if not self._need_close(node, info):
            return False
        self._stop_facing()
        self._add_both(self.character_id, "CLOSE", node.id)
        return True

    def _sit_or_lie(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        g, char, posture = self._g, self.character_id, _POSTURES[line.action]
        if not self._need_close(node, info):
            return False
        if posture.state in g.states(char):
            return info.error(f"{self._char()} is {posture.state.lower()}", "satisfied")
        if not _afford(info, node, posture.needed, posture.refusal):
            return False
        if len(g.sources("ON", node.id)) >= posture.capacity.get(node.class_name, 1):
            return info.error(f"Too many things on {node}", "missing")
        g.add_edge(char, "ON", node.id)
        if posture.faces_like_seat:
            for faced in tuple(g.targets(node.id, "FACING")):
                g.add_edge(char, "FACING", faced)
        self._set_state(char, (posture.replaces,), posture.state)
        return True

    def _standup(self, line: ScriptLine, info: _Info) -> bool:
        char = self.character_id
        states = self._g.states(char)
        if _SITTING not in states and _LYING not in states:
            return info.error(f"{self._char()} is not sitting", "satisfied")
        self._g.set_states(char, tuple(s for s in states if s not in (_SITTING, _LYING)))
        return True

    def _grab(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        g, char = self._g, self.character_id
        if not _afford(info, node, ("GRABBABLE",), "is not grabbable", _GRAB_CLASSES):
            return False
        if node.id in self._grabbed:
            return info.error(f"{node} already grabbed", "satisfied")
        if not self._need_close(node, info) or not self._need_not_in_closed(node, info):
            return False
        hand = self._free_hand()
        if hand is None:
            return self._need_free_hand(info)  # False, with its message
        char_room = self.room_of(char)
        origin = None
        for relation in ("ON", "INSIDE", "CLOSE"):
            candidates = [n for n in g.targets(node.id, relation) if not g.info(n).is_room]
            if len(candidates) > 1:
                candidates = [n for n in g.ordered_targets(node.id, relation) if not g.info(n).is_room]
            if candidates:
                origin = (candidates[0], relation)
                break
        g.remove_all(node.id, ("ON", "INSIDE", "CLOSE", "HOLDS_LH", "HOLDS_RH"))
        self._add_both(char, "CLOSE", node.id)
        g.add_edge(char, hand, node.id)
        g.add_edge(node.id, "INSIDE", char_room)
        if origin is not None:
            self._add_both(char, "CLOSE", origin[0])
            self._grabbed[node.id] = origin
        return True

    def _toggle(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:  # OPEN, SWITCHON, PLUGIN...
        toggle = _TOGGLES[line.action]
        if not _afford(info, node, toggle.properties, toggle.refusal, toggle.classes):
            return False
        if not self._need_close(node, info) or (toggle.free_hand and not self._need_free_hand(info)):
            return False
        states = self._g.states(node.id)
        if toggle.before not in states:
            return info.error(f"{node} is not {toggle.before.lower()}", "satisfied")
        if toggle.blocker is not None and toggle.blocker in states:
            info.error(f"{node} {toggle.blocker_reason}", "satisfied")
            if toggle.blocks:
                return False
        self._set_state(node.id, (toggle.before,), toggle.after)
        return True

    def _check_puttable(self, src: NodeInfo, dest: NodeInfo, relation: str, info: _Info) -> bool:
        if not self._need_holding(src, info) or not self._need_close(dest, info):
            return False
        if relation == "INSIDE" and "CAN_OPEN" in dest.properties and "OPEN" not in self._g.states(dest.id):
            return info.error(f"{dest} is not open or is not openable", "afford")
        return True

    def _place(self, src: int, dest: int, relation: str) -> None:
        self._let_go(src)
        self._add_both(self.character_id, "CLOSE", dest)
        self._add_both(src, "CLOSE", dest)
        self._g.add_edge(src, relation, dest)
        self._grabbed.pop(src, None)

    def _put(self, line: ScriptLine, info: _Info, src: NodeInfo, dest: NodeInfo) -> bool:  # PUTBACK, PUTIN
        relation = "INSIDE" if line.action == "PUTIN" else "ON"
        if not self._check_puttable(src, dest, relation, info):
            return False
        self._place(src.id, dest.id, relation)
        return True

    def _putobjback(self, line: ScriptLine, info: _Info, src: NodeInfo) -> bool | int:
        origin = self._grabbed.get(src.id)
        if origin is None:
            return info.error(f"{src} not grabbed")
        dest, relation = self._g.info(origin[0]), origin[1]
        if not self._check_puttable(src, dest, relation, info):
            return _SAME_STATE  # VirtualHome answers with the unchanged state: a success
        self._place(src.id, dest.id, relation)
        return True

    def _drink(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        return (_afford(info, node, ("DRINKABLE", "RECIPIENT"), "is not drinkable or not recipient")
                and self._need_holding(node, info))

    def _read(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        return _afford(info, node, ("READABLE",), "is not readable") and self._need_holding(node, info)

    def _turnto(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        self._stop_facing()
        self._g.add_edge(self.character_id, "FACING", node.id)
        return True

    def _lookat(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:  # also POINTAT
        return self._need_face(node, info)

    def _watch(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        g, char = self._g, self.character_id
        char_room, node_room = self.room_of(char), self.room_of(node.id)
        if not _afford(info, node, ("LOOKABLE",), "not lookable"):
            return False
        if node_room is None:
            raise _Raise("AttributeError", _NONE_ATTRIBUTE.format("id"), f"{node} is not in any room")
        if node_room != char_room:
            return info.error(f"char room {g.info(char_room)} is not node room {g.info(node_room)}", "afford")
        if not self._need_face(node, info):
            return False
        states = g.states(char)
        if (node.class_name != "computer" and (_SITTING in states or _LYING in states)
                and not g.has_edge(char, "FACING", node.id)):
            return info.error(f"{self._char()} is not facing {node} while sitting", "missing",
                              _lacks(False, char, "FACING", node.id))
        return self._need_not_in_closed(node, info)

    def _clean(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:  # WIPE; WASH, RINSE, SCRUB
        if not self._need_close(node, info):
            return False
        if line.action == "WIPE" and not any(self._g.targets(self.character_id, hand) for hand in _HANDS):
            return info.error(f"{self._char()} does not hold anything in hands", "missing",
                              _lacks(False, self.character_id, "HOLDS", -1))
        self._set_state(node.id, ("DIRTY",), "CLEAN")
        return True

    def _puton(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        if not self._need_holding(node, info) or not _afford(info, node, ("CLOTHES",), "is not clothes"):
            return False
        self._g.add_edge(node.id, "ON", self.character_id)
        self._let_go(node.id)
        return True

    def _putoff(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        g, char = self._g, self.character_id
        if not g.has_edge(node.id, "ON", char):
            return info.error(f"{node} is not on {self._char()}", "missing", _lacks(False, node.id, "ON", char))
        if not _afford(info, node, ("CLOTHES",), "is not clothes"):
            return False
        g.remove_edge(node.id, "ON", char)
        return True

    def _greet(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        return _afford(info, node, ("PERSON",), "is not person")

    def _drop(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:  # also RELEASE
        if not self._need_holding(node, info):
            return False
        char_room = self.room_of(self.character_id)
        self._let_go(node.id)
        self._g.add_edge(node.id, "INSIDE", char_room)
        self._grabbed.pop(node.id, None)
        return True

    def _touch(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        return self._need_close(node, info) and self._need_not_in_closed(node, info)

    def _pour(self, line: ScriptLine, info: _Info, src: NodeInfo, dest: NodeInfo) -> bool:
        if not (_afford(info, src, ("POURABLE", "DRINKABLE"), "is not pourable or drinkable")
                and _afford(info, dest, ("RECIPIENT",), "is not recipient", _POUR_TARGETS)
                and self._need_holding(src, info) and self._need_close(dest, info)):
            return False
        self._g.add_edge(src.id, "INSIDE", dest.id)
        if src.class_name == "water":
            self._let_go(src.id)
        return True

    def _type(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        return self._need_close(node, info) and _afford(info, node, ("HAS_SWITCH",), "does not have switch",
                                                        ("keyboard",))

    def _move(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:  # PUSH (never "not movable"), PULL, MOVE
        if line.action != "PUSH" and not _afford(info, node, ("MOVABLE",), "is not movable",
                                                 ("button", "chair", "curtain")):
            return False
        return self._need_close(node, info) and self._need_not_in_closed(node, info) and self._need_free_hand(info)

    def _squeeze(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        return (self._need_free_hand(info) and self._need_close(node, info)
                and _afford(info, node, ("CLOTHES",), "is not clothes", _SQUEEZABLE))

    def _cut(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        if not (self._need_free_hand(info) and self._need_close(node, info)
                and _afford(info, node, ("EATABLE",), "is not eatable")
                and _afford(info, node, ("CUTTABLE",), "is not cuttable")):
            return False
        if not any("knife" in self._g.info(n).class_name for n in self._in_hands()):
            return info.error(f"{self._char()} is not holding a knife", "missing")
        return True

    def _eat(self, line: ScriptLine, info: _Info, node: NodeInfo) -> bool:
        if not self._need_close(node, info):
            return False
        if "EATABLE" in node.properties:
            return True
        g = self._g
        on_it = g.sources("ON", node.id)
        if not on_it:
            return info.error(f"{node} is not eatable", "afford")
        return any("EATABLE" in g.info(n).properties for n in on_it) or info.error(
            f"none of object on {node} is eatable", "afford")

    def _rest(self, line: ScriptLine, info: _Info) -> bool:  # SLEEP, WAKEUP
        char = self.character_id
        states = self._g.states(char)
        if _LYING not in states and _SITTING not in states:
            return info.error(f"{self._char()} is not lying or sitting", "missing", _lacks_state(False, char, _LYING),
                              _lacks_state(False, char, _SITTING))
        return True


#: The state switches, as :meth:`Simulator._toggle` checks them.
_TOGGLES: dict[str, _Toggle] = {
    "OPEN": _Toggle(("CAN_OPEN",), "can not be opened", "CLOSED", "OPEN", free_hand=True, classes=("desk", "window"),
                    blocker="ON", blocker_reason="is still on"),
    "CLOSE": _Toggle(("CAN_OPEN",), "can not be opened", "OPEN", "CLOSED", classes=("desk", "window")),
    "SWITCHON": _Toggle(("HAS_SWITCH",), "does not have a switch", "OFF", "ON", blocker="PLUGGED_OUT",
                        blocker_reason="is unplugged"),
    "SWITCHOFF": _Toggle(("HAS_SWITCH",), "does not have a switch", "ON", "OFF"),
    "PLUGIN": _Toggle(("HAS_PLUG",), "does not have a plug", "PLUGGED_OUT", "PLUGGED_IN", free_hand=True),
    # unplugging an appliance that is on is reported, yet goes ahead
    "PLUGOUT": _Toggle(("HAS_PLUG",), "does not have a plug", "PLUGGED_IN", "PLUGGED_OUT", free_hand=True,
                       blocker="ON", blocker_reason="is still on", blocks=False),
}
#: SIT and LIE, as :meth:`Simulator._sit_or_lie` checks them.
_POSTURES: dict[str, _Posture] = {
    "SIT": _Posture(_SITTING, ("SITTABLE",), "is not sittable", _SIT_CAPACITY, replaces=_LYING, faces_like_seat=True),
    "LIE": _Posture(_LYING, ("LIEABLE",), "is not lieable", _LIE_CAPACITY, replaces=_SITTING, faces_like_seat=False),
}

#: Action -> handler, called as ``handler(simulator, line, info, *the line's objects)``.
_HANDLERS: dict[str, Callable[..., bool | int]] = {
    "WALK": Simulator._walk, "RUN": Simulator._walk, "FIND": Simulator._find, "SIT": Simulator._sit_or_lie,
    "LIE": Simulator._sit_or_lie, "STANDUP": Simulator._standup, "GRAB": Simulator._grab, "OPEN": Simulator._toggle,
    "CLOSE": Simulator._toggle, "SWITCHON": Simulator._toggle, "SWITCHOFF": Simulator._toggle,
    "PLUGIN": Simulator._toggle, "PLUGOUT": Simulator._toggle, "PUTBACK": Simulator._put, "PUTIN": Simulator._put,
    "PUTOBJBACK": Simulator._putobjback, "DRINK": Simulator._drink, "READ": Simulator._read,
    "LOOKAT": Simulator._lookat, "POINTAT": Simulator._lookat, "TURNTO": Simulator._turnto, "WATCH": Simulator._watch,
    "WIPE": Simulator._clean, "RINSE": Simulator._clean, "WASH": Simulator._clean, "SCRUB": Simulator._clean,
    "PUTON": Simulator._puton, "PUTOFF": Simulator._putoff, "GREET": Simulator._greet, "DROP": Simulator._drop,
    "RELEASE": Simulator._drop, "TOUCH": Simulator._touch, "POUR": Simulator._pour, "TYPE": Simulator._type,
    "PUSH": Simulator._move, "PULL": Simulator._move, "MOVE": Simulator._move, "SQUEEZE": Simulator._squeeze,
    "CUT": Simulator._cut, "EAT": Simulator._eat, "SLEEP": Simulator._rest, "WAKEUP": Simulator._rest,
}

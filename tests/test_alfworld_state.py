"""SPA-ALFWorld-v0's state keys and clone/restore, on the games recorded from the real engine."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401  (registers the ids)
from conftest import fixtures_root
from spa_gym.envs.alfworld import ALFWorldEnv, Episode
from spa_gym.envs.base import EnvState, TextEnv


def _games() -> list[Path]:
    root = fixtures_root()
    if root is None or not (root / "alfworld").is_dir():
        return []
    return sorted((root / "alfworld").glob("*/*/transcripts.json"))


GAMES = _games()
needs_fixtures = pytest.mark.skipif(
    not GAMES, reason="alfworld fixtures not found: set SPA_GYM_FIXTURES or place shared/fixtures beside the repo"
)


def _game(prefix: str) -> Path:
    """The transcripts of the fixture game whose folder name starts with ``prefix``."""
    found = [path for path in GAMES if path.parent.parent.name.startswith(prefix)]
    if not found:
        pytest.skip(f"alfworld fixture {prefix}* not found")
    return found[0]


def _walk(path: Path, kind: str) -> dict:
    return next(walk for walk in json.loads(path.read_text()) if walk["kind"] == kind)


def _env(path: Path, **kwargs) -> ALFWorldEnv:
    """The bare env on the fixture's game, reset (no TimeLimit: it would not rewind with restore)."""
    game_file = path.parent / "game.tw-pddl"
    env = gym.make("SPA-ALFWorld-v0", game_files=[game_file], **kwargs).unwrapped
    env.reset(options={"game_file": game_file})
    return env


def _play(env: ALFWorldEnv, actions: list[str]) -> list[tuple]:
    return [env.step(action) for action in actions]


def _keys(env: ALFWorldEnv, actions: list[str]) -> list[str]:
    """The state key after each action."""
    return [env.step(action)[4]["state_key"] for action in actions]


# -- 1. round trip on the real-engine transcripts ---------------------------------------------------
@needs_fixtures
@pytest.mark.parametrize("path", GAMES, ids=[p.parent.parent.name[:48] for p in GAMES])
def test_restore_replays_every_transcript_identically(path: Path) -> None:
    for walk in json.loads(path.read_text()):
        actions = [step["action"] for step in walk["steps"]]
        n = len(actions)
        for point in sorted({0, 1, n // 3, n // 2, (2 * n) // 3, n - 1, n}):
            env = _env(path)
            head = _play(env, actions[:point])
            assert [out[0] for out in head] == [step["observation"] for step in walk["steps"][:point]]
            key_at_point = env.state_key()
            saved = env.clone_state()
            rest = _play(env, actions[point:])
            assert [out[0] for out in rest] == [step["observation"] for step in walk["steps"][point:]]
            assert [out[4]["won"] for out in rest] == [step["won"] for step in walk["steps"][point:]]
            for _ in range(2):  # the same clone, twice
                env.restore_state(saved)
                assert env.state_key() == key_at_point
                assert env._last_observation == (head[-1][0] if head else env.episode.intro())
                again = _play(env, actions[point:])
                assert again == rest, f"{walk['kind']} walk, restored after step {point}"


@needs_fixtures
def test_clone_is_independent_and_shares_the_game() -> None:
    path = _game("pick_heat_then_place_in_recep-Cup")
    env = _env(path)
    actions = [step["action"] for step in _walk(path, "expert")["steps"]]
    _play(env, actions[:10])
    saved = env.clone_state()
    world = env._world_state()
    episode = saved.episode[0]
    assert isinstance(episode, Episode) and episode is not env.episode
    assert episode.game is env.episode.game  # the immutable game is not copied
    _play(env, actions[10:])
    assert env.won is True
    assert episode.world_state() == world[2]  # the clone did not move with the env
    env.restore_state(saved)
    assert env.episode is not episode  # restore installs a private copy
    assert env._world_state() == world and env.won is False


# -- 2. state keys ------------------------------------------------------------------------------------
@needs_fixtures
def test_state_key_names_the_world_not_the_path() -> None:
    path = _game("pick_clean_then_place_in_recep-Cloth")  # grammar 2.1.1, a bathroom
    env = _env(path)
    start = env.state_key()
    assert _keys(env, ["look", "inventory", "examine toilet 1", "help", "dance"]) == [start] * 5

    # go to X then Y, or Y directly: the same state
    via_toilet = _keys(env, ["go to toilet 1", "go to cabinet 2"])
    direct = _env(path)
    assert _keys(direct, ["go to cabinet 2"]) == via_toilet[1:]
    assert via_toilet[0] != start and via_toilet[0] != via_toilet[1]

    # open then close: back to the state that never opened; open itself is a new state
    at_cabinet = via_toilet[1]
    opened, closed, examined = _keys(env, ["open cabinet 2", "close cabinet 2", "examine cabinet 2"])
    assert opened != at_cabinet
    assert closed == examined == at_cabinet

    # take changes the state; putting it back where it was restores it
    at_countertop, holding, put_back, looked = _keys(
        env, ["go to countertop 1", "take candle 1 from countertop 1", "put candle 1 in/on countertop 1", "look"]
    )
    assert holding != at_countertop
    assert put_back == looked == at_countertop
    assert _keys(direct, ["go to countertop 1"]) == [at_countertop]

    # rejected commands keep the key ("Nothing happens.")
    for command in ["take candle 1 from toilet 1", "open countertop 1", "go to countertop 1", "go to loc 11", ""]:
        obs, _, _, _, info = env.step(command)
        assert (obs, info["grounded"], info["state_key"]) == ("Nothing happens.", False, at_countertop)

    # the look / examine / inventory text differs from the arrival text, the key does not
    obs_arrive = direct.step("go to toilet 1")[0]
    obs_look = direct.step("look")[0]
    assert obs_arrive != obs_look
    assert direct.state_key() == env.step("go to toilet 1")[4]["state_key"] == via_toilet[0]

    # the heated / cleaned flags are state: clean the cloth, then its key differs from holding it dirty
    _, holding_dirty, cleaned, examined_clean = _keys(
        env, ["go to sinkbasin 1", "take cloth 1 from sinkbasin 1", "clean cloth 1 with sinkbasin 1", "examine cloth 1"]
    )
    assert cleaned != holding_dirty and examined_clean == cleaned
    assert _keys(env, ["clean cloth 1 with sinkbasin 1"]) == [cleaned]  # cleaning again changes nothing


@needs_fixtures
def test_taken_out_facts_are_state() -> None:
    """Taking an object out of a receptacle leaves TextWorld's explicit ``not inreceptacle`` fact, which
    "look" can show ("Next to it"), so moving it away and back is not the state it started in."""
    path = _game("pick_clean_then_place_in_recep-Cloth")
    env = _env(path)
    (at_countertop,) = _keys(env, ["go to countertop 1"])
    keys = _keys(env, [
        "take candle 1 from countertop 1", "go to toilet 1", "put candle 1 in/on toilet 1",
        "take candle 1 from toilet 1", "go to countertop 1", "put candle 1 in/on countertop 1",
    ])
    assert keys[-1] != at_countertop
    assert env.episode.taken_out == {(env.episode.game.object_names.index("candle 1"),
                                      env.episode.game.receptacle_names.index("toilet 1"))}


@needs_fixtures
def test_state_key_on_a_2_1_3_expert_walk() -> None:
    """The recorded expert of a "two" task revisits the toilet after each open/close of a cabinet:
    every visit between the two "move" commands is the same state."""
    path = _game("pick_two_obj_and_place-SprayBottle")
    walk = _walk(path, "expert")
    assert walk["grammar"] == "2.1.3"
    actions = [step["action"] for step in walk["steps"]]
    env = _env(path)
    keys = [env.state_key(), *_keys(env, actions)]  # keys[i]: after action i (1-based)
    moves = [i for i, action in enumerate(actions, start=1) if action.startswith("move ")]
    take = actions.index("take spraybottle 3 from countertop 1") + 1
    assert len(moves) == 2 and moves[0] < take < moves[1] == len(actions)
    at_toilet = [keys[i] for i in range(take + 1, moves[1])
                 if actions[i - 1] in ("go to toilet 1", "look", "help", "inventory")]
    assert actions[take:moves[1] - 1].count("go to toilet 1") == 8 and len(at_toilet) == 8 + 12 + 3 + 1
    assert set(at_toilet) == {keys[take + 1]}
    assert keys[take + 1] not in keys[: take + 1]
    # the key changes exactly on the commands that change the world
    for i, action in enumerate(actions, start=1):
        changes = action.split()[0] in ("go", "open", "close", "take", "move")
        assert (keys[i] != keys[i - 1]) == changes, (i, action)


@needs_fixtures
@pytest.mark.parametrize("path", GAMES, ids=[p.parent.parent.name[:48] for p in GAMES])
def test_state_key_is_exactly_the_world_state(path: Path) -> None:
    """On every recorded walk: key equal <=> world state equal; reading commands and rejected ones
    keep it; the key is the base class's digest of :meth:`_world_state`."""
    by_key: dict[str, object] = {}
    starts = set()
    for walk in json.loads(path.read_text()):
        env = _env(path)
        starts.add(env.state_key())
        previous = env.state_key()
        for step in walk["steps"]:
            _, _, _, _, info = env.step(step["action"])
            world = env._world_state()
            hash(world)
            assert info["state_key"] == TextEnv.state_key(env) == env.state_key()
            assert by_key.setdefault(info["state_key"], world) == world
            command = step["action"].strip()
            if not info["grounded"] or command.split(" ")[0] in ("look", "inventory", "examine", "help"):
                assert info["state_key"] == previous, step["action"]
            previous = info["state_key"]
    assert len(starts) == 1
    assert len(set(map(repr, by_key.values()))) == len(by_key)


@needs_fixtures
def test_different_games_have_different_keys() -> None:
    keys = {_env(path).state_key() for path in GAMES}
    assert len(keys) == len(GAMES)


def test_suite_grammar_and_task_are_part_of_the_key() -> None:
    a = gym.make("SPA-ALFWorld-v0", split="valid_seen").unwrapped
    b = gym.make("SPA-ALFWorld-v0", split="valid_seen", grammar="2.1.3").unwrapped
    _, info_a = a.reset(options={"task_index": 5})
    _, info_b = b.reset(options={"task_index": 5})
    assert info_a["task_id"] == info_b["task_id"]
    assert a.episode.world_state() == b.episode.world_state()  # the same room...
    assert info_a["state_key"] != info_b["state_key"]  # ...but "put X in/on Y" vs "move X to Y"
    _, info_c = a.reset(options={"task_index": 6})
    assert info_c["state_key"] != info_a["state_key"]
    _, info_d = a.reset(options={"task_index": 5})
    assert info_d["state_key"] == info_a["state_key"]


# -- 3. bad input and order ----------------------------------------------------------------------------
def test_restore_rejects_what_clone_did_not_return() -> None:
    env = gym.make("SPA-ALFWorld-v0", split="valid_seen").unwrapped
    env.reset(seed=0)
    with pytest.raises(TypeError, match="restore_state takes what clone_state returned, got dict"):
        env.restore_state({"episode": None})
    saved = env.clone_state()
    foreign = EnvState(task=saved.task, task_id=saved.task_id, won=False, last_observation="",
                       rng=saved.rng, episode={"page": "search"})
    with pytest.raises(TypeError, match="an ALFWorld env's clone_state returned, got dict"):
        env.restore_state(foreign)
    env.restore_state(saved)  # still works after the rejected ones
    assert env.state_key() == env.reset(seed=0)[1]["state_key"]


def test_clone_and_state_key_before_reset_raise() -> None:
    env = gym.make("SPA-ALFWorld-v0", split="valid_seen").unwrapped
    with pytest.raises(RuntimeError, match=r"call reset\(\) before"):
        env.clone_state()
    with pytest.raises(RuntimeError, match=r"call reset\(\) before"):
        env.state_key()


def test_restore_into_an_env_never_reset_works() -> None:
    source = gym.make("SPA-ALFWorld-v0", split="valid_seen").unwrapped
    source.reset(options={"task_index": 3})
    saved = source.clone_state()
    fresh = gym.make("SPA-ALFWorld-v0", split="valid_seen").unwrapped
    fresh.restore_state(saved)
    plan = []
    while (command := fresh.expert_action()) is not None:
        plan.append(command)
        fresh.step(command)
    assert fresh.won is True and _play(source, plan)[-1][2] is True


# -- 4. restoring into another env ---------------------------------------------------------------------
@needs_fixtures
@pytest.mark.parametrize("prefix", ["pick_heat_then_place_in_recep-Cup", "pick_two_obj_and_place-SprayBottle"])
def test_restore_into_a_second_env_continues_identically(prefix: str) -> None:
    path = _game(prefix)
    actions = [step["action"] for step in _walk(path, "random")["steps"]]
    env = _env(path)
    _play(env, actions[:15])
    saved = env.clone_state()
    info_before = env._info()
    rest = _play(env, actions[15:])

    other_game = next(p for p in GAMES if p != path)  # the second env plays another game first
    second = gym.make("SPA-ALFWorld-v0", game_files=[other_game.parent / "game.tw-pddl"])
    second.reset(seed=1)
    second.unwrapped.restore_state(saved)
    assert second.unwrapped._info() == info_before
    assert second.unwrapped.gamefile == env.gamefile != ""
    assert _play(second.unwrapped, actions[15:]) == rest

    suite_env = gym.make("SPA-ALFWorld-v0", split="train")  # any env of the same id will do
    suite_env.reset(seed=2)
    suite_env.unwrapped.restore_state(saved)
    assert _play(suite_env.unwrapped, actions[15:]) == rest


def test_monte_carlo_rollouts_from_one_clone_in_a_second_env() -> None:
    env = gym.make("SPA-ALFWorld-v0", split="valid_seen", expert="explorer")
    _, info = env.reset(seed=4)
    for _ in range(4):
        env.step(env.unwrapped.expert_action())
    saved = env.unwrapped.clone_state()
    expert_rest = []
    while (command := env.unwrapped.expert_action()) is not None:  # the explorer's memory comes along
        expert_rest.append((command, env.step(command)))
    assert expert_rest[-1][1][2] is True

    rollout = gym.make("SPA-ALFWorld-v0", split="valid_seen", expert="explorer")
    rollout.reset(seed=99)
    for _ in range(3):
        rollout.unwrapped.restore_state(saved)
        again = []
        while (command := rollout.unwrapped.expert_action()) is not None:
            again.append((command, rollout.unwrapped.step(command)))
        assert again == expert_rest


def test_restore_rewinds_the_task_draw() -> None:
    """The random generator is part of the snapshot: a reset without options draws the same task."""
    env = gym.make("SPA-ALFWorld-v0", split="train").unwrapped
    env.reset(seed=7)
    saved = env.clone_state()
    first = env.reset()[1]["task_id"]
    env.restore_state(saved)
    assert env.reset()[1]["task_id"] == first

"""WebShop's state key, clone_state and restore_state.

The round trips replay the recordings of the original text env (``shared/fixtures/webshop``) through
the env with the recorded products and rankings, and random walks on a generated catalog: from every
saved point, restoring (twice, and into a fresh env) must go on exactly as the original did.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from conftest import check_restores
from conftest import play_checking_keys as play
from spa_gym.envs.webshop.env import WebShopEnv
from spa_gym.envs.webshop.session import SEARCH_PLACEHOLDER, ShopSession

NUM_SCENARIO_STEPS = 42  # records of one observation mode in pages.jsonl


pytestmark = pytest.mark.usefixtures("private_spa_gym_home")  # catalogs and indexes go to a temporary home


def make(**kwargs: Any) -> gym.Env:
    """``gym.make`` of a small test-split WebShop whose step limit never interferes."""
    return gym.make("SPA-WebShop-v0", **{"split": "test", "num_products": 100, "max_episode_steps": 1000, **kwargs})


def check_round_trips(make_env, reset_options: dict, actions: list[str], points: list[int],
                      fresh_options: dict) -> None:
    """:func:`conftest.check_restores` with reset options; the fresh env searches something else first."""
    check_restores(make_env, {"options": reset_options}, actions, points, {"options": fresh_options},
                   fresh_action="search[something else entirely]")


# --------------------------------------------------------------------------- the recordings
class RecordedShop(WebShopEnv):
    """WebShopEnv playing one recorded scenario: its instruction, products, rankings and reward."""

    def __init__(self, scenario: list[dict], catalog: dict[str, dict], mode: str):
        first = scenario[0]["inputs"]
        super().__init__(split="test", num_products=100, observation_mode=mode, show_attrs=first["show_attrs"])
        self.instruction = first["instruction_text"]
        self.rankings = {" ".join(r["inputs"]["keywords"]): r["inputs"]["ranking"]
                         for r in scenario if r["inputs"]["keywords"]}
        self.recorded_rewards = [r["inputs"]["reward"] for r in scenario if "reward" in r["inputs"]]
        self.products = catalog

    def _new_session(self) -> ShopSession:
        return ShopSession(self.instruction, self.products, self._search, mode=self.observation_mode,
                           reward_fn=self._recorded_reward, **self.session_flags)

    def _search(self, query: str) -> list[str]:
        return self.rankings.get(query, [])  # the recorded ranking; nothing for a query never recorded

    def _recorded_reward(self, asin: str, options: dict[str, str]) -> float:
        self._reward = self.recorded_rewards[0]
        self.reward_info = {"asin": asin, "options": dict(options)}
        return self._reward


@pytest.fixture(scope="module")
def records(webshop_fixtures: Path) -> list[dict]:
    with open(webshop_fixtures / "pages.jsonl", encoding="utf-8") as file:
        return [json.loads(line) for line in file]


def scenarios(records: list[dict], mode: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        if record["mode"] == mode:
            found[record["inputs"]["scenario"]].append(record)
    return {name: sorted(steps, key=lambda r: r["inputs"]["step"]) for name, steps in found.items()}


@pytest.mark.parametrize("mode", ["text", "text_rich"])
def test_recorded_episodes_round_trip_from_every_step(records: list[dict], mode: str) -> None:
    catalog = {product["asin"]: product for record in records for product in record["inputs"]["products"]}
    steps_seen = 0
    for name, scenario in scenarios(records, mode).items():
        actions = [record["inputs"]["action"] for record in scenario[1:]]
        env = RecordedShop(scenario, catalog, mode)
        obs, info = env.reset(options={"task_index": 0})
        assert obs == scenario[0]["observation"], name
        for record, (obs, _, terminated, _, info) in zip(scenario[1:], play(env, actions)):  # the recording
            where = f"{name} step {record['inputs']['step']}"
            assert (obs, info["page"], info["available_actions"]) == (
                record["observation"], record["page"], record["available_actions"]), where
            assert info["grounded"] is record["inputs"]["action_valid"], where
            assert terminated is (record["page"] == "done"), where
        steps_seen += len(scenario)
        actions.append("click[< prev]")  # after the purchase: the done page again, shown anew
        check_round_trips(lambda scenario=scenario: RecordedShop(scenario, catalog, mode), {"task_index": 0},
                          actions, list(range(len(actions) + 1)), {"task_index": 5})
    assert steps_seen == NUM_SCENARIO_STEPS


# --------------------------------------------------------------------------- a generated catalog
def random_walk(env: gym.Env, seed: int, steps: int) -> list[str]:
    """``steps`` random admissible actions but Buy Now (searches from the instruction's words, a few
    invalid actions), then the expert's actions up to the purchase."""
    rng = random.Random(seed)
    actions: list[str] = []
    info = env.unwrapped._info()
    for _ in range(steps):
        if rng.random() < 0.1:
            action = rng.choice(["click[nothing here]", "search[]", "buy it", "click[search]"])
        else:
            action = rng.choice([a for a in info["admissible_actions"] if a != "click[buy now]"])
            if action == SEARCH_PLACEHOLDER:
                words = info["instruction"].split()
                action = f"search[{' '.join(words[: rng.randint(1, min(6, len(words)))])}]"
        actions.append(action)
        info = env.step(action)[4]
    while (action := env.unwrapped.expert_action()) is not None:
        actions.append(action)
        env.step(action)
    return [*actions, "search[after the purchase]"]  # the done page again, shown anew


@pytest.mark.parametrize("mode", ["text", "text_rich"])
@pytest.mark.parametrize("task_index", [0, 7])
def test_random_walks_round_trip(mode: str, task_index: int) -> None:
    env = make(observation_mode=mode)
    env.reset(options={"task_index": task_index})
    actions = random_walk(env, seed=task_index, steps=30)
    assert env.unwrapped.session.bought  # the walk reaches the done page
    check_round_trips(lambda: make(observation_mode=mode), {"task_index": task_index}, actions,
                      [0, 1, 4, 9, 15, 22, len(actions) - 1, len(actions)], {"task_index": task_index + 1})


def test_restored_episode_buys_with_the_restored_goal() -> None:
    env = make()
    env.reset(options={"task_index": 3})
    state = env.unwrapped.clone_state()
    other = make()
    other.reset(options={"task_index": 4})
    obs, info = other.unwrapped.restore_state(state)
    assert (info["task_id"], info["page"]) == ("test-0003", "search")
    assert other.unwrapped.goal_index == env.unwrapped.goal_index
    while (action := other.unwrapped.expert_action()) is not None:
        _, reward, terminated, _, info = other.step(action)
    assert (reward, terminated, info["won"], info["reward_info"]["r_type"]) == (1.0, True, True, 1.0)
    # the saved state is untouched: it still restores the home page
    assert other.unwrapped.restore_state(state)[0] == env.unwrapped.last_observation


# --------------------------------------------------------------------------- the state key
def test_state_key_names_the_page_not_the_path() -> None:
    env = make()
    _, info = env.reset(options={"task_index": 0})
    home = info["state_key"]
    first = play(env, ["search[whole grain pack]"])[0][4]
    results = first["state_key"]
    ranking = env.unwrapped.session.ranking
    assert (len(ranking), first["page"]) == (48, "results") and results != home
    # the same search again, or typed in upper case, lands on the same results page
    assert [r[4]["state_key"] for r in play(env, ["search[whole grain pack]", "search[WHOLE Grain PACK]"])] == [
        results] * 2
    # the same words in another order: BM25 ranks the same hits, so it is the same state
    assert play(env, ["search[pack grain whole]"])[0][4]["state_key"] == results
    assert env.unwrapped.session.ranking == ranking and env.unwrapped.session.keywords == ["pack", "grain", "whole"]
    # page 2 and back is page 1 again
    page2, back = (r[4]["state_key"] for r in play(env, ["click[next >]", "click[< prev]"]))
    assert page2 not in (results, home) and back == results
    # an item, its sub-page, its options
    asin = ranking[0].lower()
    item, description, back_on_item = (r[4]["state_key"] for r in play(
        env, [f"click[{asin}]", "click[description]", "click[< prev]"]))
    assert len({item, description, results}) == 3 and back_on_item == item
    chosen, again = (r[4]["state_key"] for r in play(env, ["click[assorted]", "click[assorted]"]))
    assert env.unwrapped.session.options == {"flavor name": "assorted"} and chosen not in (item, description)
    assert again == chosen  # choosing it again changes nothing
    (_, _, _, _, sub), (_, _, _, _, back_on_item) = play(env, ["click[features]", "click[< prev]"])
    assert sub["state_key"] not in (chosen, description) and back_on_item["state_key"] == chosen  # options kept
    # back to the results: the options are dropped; in text mode the visited item shows nowhere
    assert play(env, ["click[< prev]"])[0][4]["state_key"] == results
    # back to search forgets everything: the home page again
    assert play(env, ["click[back to search]"])[0][4]["state_key"] == home


def test_invalid_actions_leave_the_key_alone() -> None:
    env = make()
    env.reset(options={"task_index": 2})
    query = " ".join(env.unwrapped.task.split()[:4])
    _, _, _, _, info = env.step(f"search[{query}]")
    key = info["state_key"]
    for action in ("click[buy now]", "click[search]", "click[< prev]", "search[]", "click[b0000000zz]", "dance", ""):
        obs, reward, terminated, _, info = env.step(action)
        assert (info["grounded"], info["state_key"], reward, terminated) == (False, key, 0.0, False), action


def test_text_rich_keys_keep_what_its_pages_show() -> None:
    """text_rich marks visited results, and option values whose quoted text is in the item URL (which
    holds the keywords): the key tells states apart exactly when what they show can differ."""
    for mode, same_after_visit, same_quoted in (("text", True, True), ("text_rich", False, False)):
        env = make(observation_mode=mode)
        env.reset(options={"task_index": 0})
        (obs, _, _, _, info), = play(env, ["search[whole grain pack]"])
        asin = env.unwrapped.session.ranking[0].lower()
        (item_obs, _, _, _, item), (obs_back, _, _, _, back) = play(env, [f"click[{asin}]", "click[< prev]"])
        assert (back["state_key"] == info["state_key"]) is same_after_visit and (obs_back == obs) is same_after_visit
        # other keywords, same hits: the item page is the same state (no quote in the URL)
        *_, (_, _, _, _, reordered) = play(env, ["click[back to search]", "search[pack grain whole]", f"click[{asin}]"])
        assert (reordered["state_key"], env.unwrapped.last_observation) == (item["state_key"], item_obs)
        # a quoted keyword that is also an option value marks that value in text_rich
        *_, (quoted_obs, _, _, _, quoted) = play(env, ["click[back to search]", 'search["assorted" whole grain pack]',
                                                     f"click[{asin}]"])
        assert env.unwrapped.session.ranking[0].lower() == asin and env.unwrapped.session.options == {}
        assert (quoted["state_key"] == item["state_key"]) is same_quoted and (quoted_obs == item_obs) is same_quoted
        if mode == "text_rich":
            assert "[clicked button] assorted [clicked button_]" in quoted_obs


def test_text_rich_round_trip_keeps_the_keywords() -> None:
    """A quoted keyword marks an option value on the item page: restored states keep the keywords."""
    actions = ['search["assorted" whole grain pack]', "click[description]", "click[< prev]", "click[< prev]",
               "click[next >]", "click[< prev]"]
    env = make(observation_mode="text_rich")
    env.reset(options={"task_index": 0})
    asin = env.step(actions[0])[4]["admissible_actions"][2]
    actions.insert(1, asin)
    check_round_trips(lambda: make(observation_mode="text_rich"), {"task_index": 0}, actions, [1, 2, 3],
                      {"task_index": 3})
    env.unwrapped.restore_state(env.unwrapped.clone_state())
    assert "[clicked button] assorted [clicked button_]" in env.step(asin)[0]


def test_done_page_key_and_steps_after_it() -> None:
    env = make()
    env.reset(options={"task_index": 1})
    while (action := env.unwrapped.expert_action()) is not None:
        _, _, terminated, _, info = env.step(action)
    session = env.unwrapped.session
    assert terminated and env.unwrapped._world_state() == (
        "test-0001", "done", session.purchased_asin, tuple(sorted(session.purchased_options.items())))
    for action in ("search[lamp]", "click[back to search]", "click[buy now]"):
        assert env.step(action)[4]["state_key"] == info["state_key"]


def test_key_is_the_task_and_the_world() -> None:
    env = make()
    _, first = env.reset(options={"task_index": 0})
    _, second = env.reset(options={"task_index": 1})
    assert first["state_key"] != second["state_key"]  # the same home page, another task
    assert env.unwrapped._world_state() == ("test-0001", "search", (), None, None, (), ())


# --------------------------------------------------------------------------- misuse
def test_restore_state_rejects_what_clone_state_did_not_return() -> None:
    env = make()
    env.reset(options={"task_index": 0})
    with pytest.raises(TypeError, match="restore_state takes what clone_state returned, got str"):
        env.unwrapped.restore_state("test-0000")
    state = env.unwrapped.clone_state()
    with pytest.raises(TypeError, match="a WebShop env's clone_state returned, got an episode of dict"):
        env.unwrapped.restore_state(dataclasses.replace(state, episode={"page": "search"}))
    with pytest.raises(ValueError, match="another goal suite"):
        make(split="dev").unwrapped.restore_state(state)

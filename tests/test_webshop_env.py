"""WebShopEnv as a Gymnasium env: the contract, determinism, vectorisation, bad input, the expert."""

from __future__ import annotations

import json
import random
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

from spa_gym.envs.webshop.catalog import RAW_FILES, generate_raw, generated_catalog
from spa_gym.envs.webshop.env import WebShopEnv
from spa_gym.envs.webshop.session import SEARCH_PLACEHOLDER

pytestmark = pytest.mark.usefixtures("private_spa_gym_home")  # catalogs and indexes go to a temporary home


def make(**kwargs) -> WebShopEnv:
    return WebShopEnv(**{"num_products": 100, **kwargs})


def play_expert(env: WebShopEnv, limit: int = 40) -> tuple[float, list[str]]:
    """Follow the expert until it stops; every action it gives must be executed."""
    actions, reward = [], 0.0
    while (action := env.expert_action()) is not None and len(actions) < limit:
        _, reward, terminated, _, info = env.step(action)
        assert info["grounded"], (action, info["page"])
        actions.append(action)
        if terminated:
            break
    return reward, actions


def concrete(action: str, info: dict, rng: random.Random) -> str:
    """A random admissible action, the search placeholder filled with words of the instruction."""
    if action != SEARCH_PLACEHOLDER:
        return action
    words = info["instruction"].split()
    return f"search[{' '.join(rng.sample(words, min(len(words), rng.randint(1, 5))))}]"


def test_check_env_passes() -> None:
    check_env(make(), skip_render_check=True)
    check_env(make(human_goals=False, observation_mode="text_rich"), skip_render_check=True)


def test_info_contract_on_reset_and_step() -> None:
    env = make(split="test")
    obs, info = env.reset(options={"task_index": 3})
    assert set(info) == {
        "task", "task_id", "admissible_actions", "won", "state_key", "instruction", "goal_index", "page",
        "available_actions", "reward_info",
    }  # fmt: skip
    assert obs == f"WebShop [SEP] Instruction: [SEP] {info['task']} [SEP] Search"
    assert info["task_id"] == "test-0003" and info["instruction"] == info["task"] == env.goal["instruction_text"]
    assert info["goal_index"] == env.suite.goal_index(3) and info["page"] == "search"
    assert info["available_actions"] == {"has_search_bar": True, "clickables": ["search"]}
    assert (info["admissible_actions"], info["won"], info["reward_info"]) == ([SEARCH_PLACEHOLDER], False, {})
    obs2, reward, terminated, truncated, info = env.step("search[hair oil]")
    assert (info["grounded"], info["page"], reward, terminated, truncated) == (True, "results", 0.0, False, False)
    assert obs2.startswith(f"Instruction: [SEP] {info['task']} [SEP] Back to Search [SEP] Page 1 (Total results: ")
    for invalid in ("click[search]", "click[buy now]", "dance", "search[]", ""):
        obs3, reward, terminated, _, info = env.step(invalid)
        assert (obs3, reward, terminated, info["grounded"], info["page"]) == (obs2, 0.0, False, False, "results")


def test_purchase_ends_the_episode_with_the_reward_and_its_breakdown() -> None:
    env = make(split="dev")
    env.reset(options={"task_index": 0})
    reward, actions = play_expert(env)
    assert reward == 1.0 and actions[-1] == "click[buy now]" and env.won
    obs, info = env._last_observation, env._info()
    assert info["won"] is True and info["page"] == "done" and info["admissible_actions"] == []
    assert info["reward_info"]["r_type"] == 1.0 and info["reward_info"]["r_price"] is True
    assert obs.startswith("Thank you for shopping with us! [SEP]") and " [SEP] 1.0 [SEP] " in obs
    # nothing happens after the purchase, even a search (which the done page would otherwise accept)
    for action in ("search[lamp]", "click[buy now]", "x"):
        assert env.step(action) == (obs, 0.0, True, False, {**info, "grounded": False})


def test_a_wrong_purchase_scores_below_one() -> None:
    env = make(split="test")
    env.reset(options={"task_index": 1})
    env.step(f"search[{env.goal['instruction_text']}]")
    other = next(a for a in env.session.ranking if a != env.goal["asin"])
    page = env.session.ranking.index(other) // 10
    for _ in range(page):
        env.step("click[next >]")
    env.step(f"click[{other.lower()}]")
    _, reward, terminated, _, info = env.step("click[buy now]")
    assert terminated and reward < 1.0 and info["won"] is False and info["reward_info"]


def test_same_seed_gives_identical_episodes() -> None:
    def episode(seed: int) -> str:
        env = make(split="train")
        obs, info = env.reset(seed=seed)
        rng = random.Random(seed)
        out = [obs, info]
        for _ in range(40):
            action = concrete(rng.choice(info["admissible_actions"] or ["x"]), info, rng)
            step = env.step(action)
            out.append(step)
            info = step[-1]
            if step[2]:
                obs, info = env.reset()
                out.append((obs, info))
        return json.dumps(out)

    assert episode(11) == episode(11)
    assert episode(11) != episode(12)


def test_reset_options_select_tasks() -> None:
    env = make(split="test")
    _, info = env.reset(options={"task_id": "test-0005"})
    _, again = env.reset(options={"task_index": 5})
    assert info == again and info["task_id"] == "test-0005"
    assert env.task_ids() == [f"test-{i:04d}" for i in range(env.num_tasks())]
    with pytest.raises(ValueError, match="unknown task id"):
        env.reset(options={"task_id": "train-0005"})
    n = env.num_tasks()
    with pytest.raises(IndexError, match=f"^task_index {n} out of range: this split has {n} goals$"):
        env.reset(options={"task_index": env.num_tasks()})
    with pytest.raises(ValueError, match=r"unknown reset options \['goal'\]"):
        env.reset(options={"goal": 1})


def test_constructor_rejects_bad_arguments() -> None:
    for kwargs, message in [
        ({"split": "valid"}, "unknown WebShop split"),
        ({"observation_mode": "html"}, "observation_mode"),
        ({"fuzz_backend": "levenshtein"}, "fuzz_backend"),
        ({"num_products": None}, "needs data_dir"),
        ({"num_products": "huge"}, "unknown catalog size"),
        ({"render_mode": "rgb_array"}, "render_mode"),
    ]:
        with pytest.raises(ValueError, match=message):
            make(**kwargs)
    with pytest.raises(RuntimeError, match="call reset"):
        make().step("search[x]")


@pytest.mark.parametrize("action", [None, b"search[x]", 3, ["click[buy now]"]])
def test_non_str_actions_raise_type_error(action) -> None:
    env = make()
    env.reset(seed=0)
    with pytest.raises(TypeError, match="str"):
        env.step(action)


GARBAGE = [
    "", " ", "[", "]", "[]", "search", "search[", "search[]", "click[]", "click[ ]", "Search[lamp]", "CLICK[buy now]",
    "click[search]", "search[\n]", "click[< prev]\nclick[buy now]", "ünïcödé 🛒 […]", "search[🛒 ünïcödé]",
    "click[next >]]]]", "[[[[[[", "\x00\x01", "search[" + "a b " * 50_000 + "]", "click[" + "x" * 200_000 + "]",
    "]" * 100_000 + "[",
]  # fmt: skip


def test_garbage_unicode_and_huge_actions_never_raise_nor_corrupt_state() -> None:
    env = make(split="test")
    rng = random.Random(0)
    for task in range(4):
        obs, info = env.reset(options={"task_index": task})
        for _ in range(12):
            for action in rng.sample(GARBAGE, 4):
                before = (obs, info["admissible_actions"], info["page"])
                obs, reward, terminated, _, info = env.step(action)
                assert reward == 0.0 and not terminated
                if not info["grounded"]:
                    assert (obs, info["admissible_actions"], info["page"]) == before
            action = concrete(rng.choice(info["admissible_actions"]), info, rng)
            if action == "click[buy now]":
                continue
            obs, _, _, _, info = env.step(action)
        reward, _ = play_expert(env)
        assert reward == 1.0


def _vector_actions(infos: dict) -> list[str]:
    return [f"search[{text}]" for text in infos["instruction"]]


def test_sync_vector_env() -> None:
    envs = gym.vector.SyncVectorEnv([lambda: make(split="test") for _ in range(3)])
    obs, infos = envs.reset(seed=[1, 2, 3])
    assert len(obs) == 3 and all(o.startswith("WebShop [SEP]") for o in obs)
    obs, rewards, _, _, infos = envs.step(_vector_actions(infos))
    assert list(infos["page"]) == ["results"] * 3 and list(rewards) == [0.0] * 3
    envs.close()


def test_async_vector_env() -> None:
    envs = gym.vector.AsyncVectorEnv([lambda: make(split="test") for _ in range(2)])
    obs, infos = envs.reset(seed=[4, 5])
    obs, _, _, _, infos = envs.step(_vector_actions(infos))
    assert all(o.startswith("Instruction: [SEP]") for o in obs) and list(infos["page"]) == ["results"] * 2
    envs.close()


ENV_ID = "test-local/WebShop-v0"


def register_locally() -> str:
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point=WebShopEnv, max_episode_steps=10, kwargs={"num_products": 100})
    return ENV_ID


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec(mode: str) -> None:
    envs = gym.make_vec(register_locally(), num_envs=2, vectorization_mode=mode, split="test")
    _, infos = envs.reset(seed=7)
    _, rewards, terminated, _, infos = envs.step(_vector_actions(infos))
    assert list(infos["page"]) == ["results"] * 2 and list(rewards) == [0.0, 0.0] and not any(terminated)
    _, _, _, _, infos = envs.step(["click[back to search]", "garbage"])
    assert list(infos["page"]) == ["search", "results"] and list(infos["grounded"]) == [True, False]
    envs.close()


def test_registered_step_limit_truncates() -> None:
    env_id = register_locally()
    env = gym.make(env_id, split="test")
    env.reset(seed=0)
    results = [env.step("click[nothing]") for _ in range(10)]
    assert [r[3] for r in results] == [False] * 9 + [True]
    assert gym.make(env_id, max_episode_steps=3).spec.max_episode_steps == 3


def test_envs_in_one_process_share_catalog_goals_and_index() -> None:
    envs = [make(split=split) for split in ("train", "train", "test")]
    assert envs[0].catalog is envs[1].catalog is envs[2].catalog is generated_catalog(100)
    assert envs[0].index is envs[2].index and envs[0].suite.goals is envs[2].suite.goals


@pytest.mark.parametrize("human_goals", [True, False])
@pytest.mark.parametrize("split", ["test", "dev"])
def test_expert_wins_every_goal_of_the_held_out_splits(split: str, human_goals: bool) -> None:
    env = WebShopEnv(split=split, num_products=1000, human_goals=human_goals)
    assert env.num_tasks() == 200
    for index in range(env.num_tasks()):
        env.reset(options={"task_index": index})
        reward, actions = play_expert(env)
        assert reward == 1.0, (env.task_id, actions, env.reward_info)
        assert len(actions) <= 10  # within SPA-RL's step limit


def test_expert_wins_a_sample_of_train_goals() -> None:
    env = WebShopEnv(split="train", num_products=1000)
    for index in range(0, env.num_tasks(), 7):
        env.reset(options={"task_index": index})
        assert play_expert(env)[0] == 1.0, env.task_id


@pytest.mark.parametrize("flags", [{}, {"search_from_any_page": False, "next_always_shown": False, "show_attrs": True}])
def test_expert_wins_after_random_detours(flags: dict) -> None:
    env = make(split="train", **flags)
    rng = random.Random(7)
    for episode in range(30):
        _, info = env.reset(seed=episode)
        for _ in range(rng.randint(0, 12)):
            candidates = [a for a in info["admissible_actions"] if a != "click[buy now]"]
            if not candidates:
                break
            action = rng.choice(candidates)
            if action == SEARCH_PLACEHOLDER and rng.random() < 0.3:
                action = f"search[{env.goal['name']}]"  # a search that lists the goal product
            _, _, _, _, info = env.step(concrete(action, info, rng))
        reward, actions = play_expert(env)
        assert reward == 1.0, (env.task_id, info["page"], actions)


def test_expert_fixes_wrongly_chosen_options() -> None:
    env = WebShopEnv(split="test", num_products=1000, human_goals=False)
    index = next(i for i in range(env.num_tasks()) if env.suite.goal(i)["goal_options"])
    env.reset(options={"task_index": index})
    while env.session.page != "item" or env.session.asin != env.goal["asin"]:
        env.step(env.expert_action())
    product = env.catalog.by_asin[env.goal["asin"]]
    for name, wanted in env.goal["goal_options"].items():
        wrong = next(v for v in product["options"][name] if v != wanted)
        env.step(f"click[{wrong}]")
    env.step("click[description]")
    reward, actions = play_expert(env)
    assert reward == 1.0 and actions[0] == "click[< prev]"
    assert len(actions) == 2 + len(env.goal["goal_options"])


def test_real_files_play_in_the_same_engine(tmp_path: Path) -> None:
    items, annotations, human, _ = generate_raw(300, seed=21)
    for name, content in (("items_shuffle_1000.json", items), ("items_ins_v2_1000.json", annotations),
                          (RAW_FILES["human"], human)):  # fmt: skip
        (tmp_path / name).write_text(json.dumps(content), encoding="utf-8")
    env = WebShopEnv(split="test", data_dir=tmp_path)
    assert env.catalog.title_nouns is None and len(env.catalog) == 300
    for index in range(0, env.num_tasks(), 5):
        env.reset(options={"task_index": index})
        reward, _ = play_expert(env)
        assert reward == 1.0  # the heuristic noun extractor still sees the goal product's own nouns
    assert WebShopEnv(split="all", data_dir=tmp_path, num_products=None).num_tasks() == len(env.suite.goals.goals)

"""The credit-assignment arena (``benchmarks/credit_arena.py``) at a tiny scale: its JSON, its budget
accounting (mc-prm's extra env steps count) and its credit-quality figures."""

from __future__ import annotations

import importlib.util
import json
import sys

import gymnasium as gym
import pytest

from conftest import REPO_ROOT


@pytest.fixture(scope="module")
def arena():
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))  # the script imports sb3_learning as a sibling
    try:
        spec = importlib.util.spec_from_file_location("credit_arena_benchmark",
                                                      REPO_ROOT / "benchmarks" / "credit_arena.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(REPO_ROOT / "benchmarks"))


@pytest.mark.slow
def test_arena_runs_each_method_to_the_same_budget(arena, tmp_path, capsys) -> None:
    methods = ["turn-critic", "gigpo", "mc-prm"]
    table = tmp_path / "arena.md"
    summary = arena.main(["--envs", "SPA-ALFWorld-v0", "--methods", *methods, "--seeds", "0", "--budget", "1024",
                          "--eval-every", "1024", "--curve-episodes", "4", "--final-episodes", "4",
                          "--mc-rollouts", "1", "--auc-tasks", "2", "--auc-group", "4", "--auc-mc-rollouts", "1",
                          "--table", str(table), "--plot", ""])
    assert '"credit_quality"' in capsys.readouterr().out
    assert summary["protocol"]["budget"] == 1024 and summary["protocol"]["methods"] == methods
    entry = summary["envs"]["SPA-ALFWorld-v0"]
    assert entry["tasks"] and entry["step_limit"] == 20 and 0.0 <= entry["random_policy_success"] <= 1.0
    assert list(entry["methods"]) == methods
    for name, result in entry["methods"].items():
        steps = result["steps"]
        assert steps["used_per_seed"][0] == steps["policy_per_seed"][0] + steps["extra_per_seed"][0] >= 1024
        assert steps["policy_per_seed"][0] % 1024 == 0  # whole rollouts
        assert len(result["success_per_seed"]) == 1 and 0.0 <= result["success_mean"] <= 1.0
        assert [point["at"] for point in result["curve_mean"]] == [0, 1024]
        cost = result["cost"]
        assert cost["iterations_per_seed"] == [steps["policy_per_seed"][0] // 1024]
        assert cost["policy_steps_per_iteration"] == 1024 and cost["seconds_per_iteration_median"] > 0
        if name == "mc-prm":
            assert steps["extra_per_seed"][0] > 0 and cost["extra_env_steps_mean"] == steps["extra_per_seed"][0]
            assert cost["mc_policy_calls_per_iteration_median"] > 0  # one policy call per extra env step
            assert cost["policy_evaluations_per_iteration_median"] > 1024
        else:
            assert steps["extra_per_seed"][0] == 0 and cost["mc_policy_calls_per_iteration_median"] == 0
    assert entry["methods"]["turn-critic"]["ratio_to_turn_critic"] in (None, 1.0)

    quality = summary["credit_quality"]
    assert quality["trajectories"] == 8 and len(quality["tasks"]) == 2
    assert set(quality["methods"]) == set(arena.AUC_METHODS)
    for name in ("grpo", "rloo", "uniform"):  # one value per trajectory: no ranking inside it
        assert quality["methods"][name]["auc_within_trajectory"] == 0.5
    assert quality["methods"]["mc-prm"]["extra_env_steps"] == quality["methods"]["mc-prm"]["policy_calls"] > 0
    assert quality["methods"]["gigpo"]["extra_env_steps"] == 0
    text = table.read_text()
    assert text.startswith("| method | ALFWorld success mean [per seed] |") and "| mc-prm |" in text


def test_markdown_table_marks_skipped_methods(arena) -> None:
    cost = {"extra_env_steps_mean": 0, "seconds_per_iteration_median": 0.5}
    summary = {
        "protocol": {"methods": ["turn-critic", "spa"], "budget": 10, "seeds": [0]},
        "envs": {"SPA-WebShop-v0": {"random_policy_success": 0.02, "methods": {
            "turn-critic": {"success_mean": 0.25, "success_per_seed": [0.25], "cost": cost},
            "spa": {"skipped": "ALFWorld only"}}}},
        "credit_quality": {"methods": {"sparse": {"auc_pooled": 0.6, "auc_within_trajectory": 0.55}}},
    }
    lines = arena.markdown_table(summary).splitlines()
    assert lines[2] == "| turn-critic | 0.250 [0.25] | 0.600 / 0.550 | 0 | 0.50 |"
    assert lines[3] == "| spa | - | - | - | - |"


def test_webshop_variant_offers_the_instruction_as_its_search(arena) -> None:
    arena.register_arena_envs()
    env = gym.make(arena.ARENA_WEBSHOP)
    _, info = env.reset(options={"task_index": 2})
    query = info["admissible_actions"]
    assert query == [f"search[{info['task'].split(', and price lower than')[0]}]"]
    assert env.unwrapped.expert_action() == query[0]  # the expert's own first query
    _, _, _, _, info = env.step(query[0])
    assert info["page"] == "results" and "search[<query>]" not in info["admissible_actions"]


@pytest.mark.slow
def test_llm_view_trains_each_method_to_its_env_step_budget(arena, tmp_path) -> None:
    import credit_arena_llm

    from spa_gym.progress import ProgressEstimator
    from spa_gym.training import tiny_model_path

    args = arena.parse_args(["--seeds", "0", "--llm-model", str(tiny_model_path()), "--llm-env", "SPA-ALFWorld-v0",
                             "--llm-methods", "turn-critic", "gigpo", "--llm-budget", "10", "--llm-batch", "4",
                             "--llm-group", "2", "--llm-eval", "2", "--no-llm-lora"])
    view = credit_arena_llm.llm_view(args, tmp_path)
    assert list(view["methods"]) == ["turn-critic", "gigpo"] and view["group"] == 2
    for result in view["methods"].values():
        (run,) = result["runs"]
        # cpu preset: step limit 6, so an iteration of 4 episodes plays 4 to 24 turns; 10 steps need 1 or more
        assert run["env_steps"] >= 10 and run["env_steps"] == sum(run["generated_turns_per_iteration"])
        assert run["iterations"] == len(run["seconds_per_iteration"]) == len(run["train_success_per_iteration"])
        assert run["episodes"] == 2 and run["scoring_passes_per_iteration"] == 4 * (2 + 1)
    assert (tmp_path / "gigpo-0" / "ppo_history.json").is_file()
    saved = json.loads((tmp_path / "gigpo-0.json").read_text())
    assert saved == view["methods"]["gigpo"]["runs"][0]  # kept as it finished: a rerun takes it from there
    assert credit_arena_llm.llm_view(args, tmp_path)["methods"]["gigpo"]["runs"][0] == saved
    with pytest.raises(ValueError, match="needs --llm-estimator"):
        credit_arena_llm.llm_credit("spa", None)
    ProgressEstimator.from_backbone(tiny_model_path()).save_pretrained(tmp_path / "estimator")
    spa = credit_arena_llm.llm_credit("spa", str(tmp_path / "estimator"))
    assert spa.describe() == {"name": "spa", **credit_arena_llm.PRESET.spa_reward.as_dict()}

"""The verl adapter: the task dataset (no verl needed) and the agent loop run through verl's own
AgentLoopBase machinery with a scripted LLM server (where verl is installed: verl 0.9.1 pins another
transformers, so these ran in a separate virtual environment with `pip install verl==0.9.1 cachetools fastapi`)."""

from __future__ import annotations

import asyncio
import json

import gymnasium as gym
import pytest

import spa_gym  # noqa: F401
from spa_gym.agents.prompts import build_messages, get_prompt
from spa_gym.integrations import verl as adapter
from spa_gym.training import resolve_model

ENV = "SPA-ALFWorld-v0"


def test_task_rows_hold_each_task_once_with_its_opening_chat() -> None:
    rows = adapter.task_rows(ENV, "valid_seen", style="compact", limit=3)
    assert [row["extra_info"] for row in rows] == [
        {"index": i, "env_id": ENV, "split": "valid_seen", "task_id": f"valid_seen-{i:04d}"} for i in range(3)]
    env = gym.make(ENV, split="valid_seen")
    observation, _ = env.reset(options={"task_id": "valid_seen-0001"})
    assert rows[1]["prompt"] == build_messages(get_prompt(ENV, "compact"), observation)
    assert {row["agent_name"] for row in rows} == {"spa_gym_agent"}


def test_write_dataset_writes_the_parquet_and_the_loop_registration(tmp_path) -> None:
    import pandas as pd

    path = adapter.write_dataset(tmp_path, ENV, "valid_seen", style="compact", max_turns=5, limit=2)
    frame = pd.read_parquet(path)
    assert list(frame["agent_name"]) == ["spa_gym_agent"] * 2
    assert [info["task_id"] for info in frame["extra_info"]] == ["valid_seen-0000", "valid_seen-0001"]
    assert json.loads((tmp_path / "agent_loop.yaml").read_text()) == [{
        "name": "spa_gym_agent", "_target_": "spa_gym.integrations.verl.SpaGymAgentLoop", "style": "compact",
        "max_turns": 5, "env_kwargs": {}, "estimator": None}]


def test_without_verl_the_loop_is_a_one_line_import_error(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "verl", None)
    monkeypatch.delitem(adapter.__dict__, "SpaGymAgentLoop", raising=False)
    with pytest.raises(ImportError, match="SpaGymAgentLoop runs inside verl: pip install verl"):
        adapter.SpaGymAgentLoop  # noqa: B018


class ScriptedServer:
    """verl's LLM server client, answering each generate call with the next scripted command's token ids."""

    def __init__(self, tokenizer, commands: list[str]):
        self.tokenizer, self.commands, self.calls = tokenizer, list(commands), []

    async def generate(self, request_id, prompt_ids, sampling_params, **kwargs):
        from verl.workers.rollout.replica import TokenOutput

        self.calls.append((request_id, list(prompt_ids)))
        ids = self.tokenizer(self.commands.pop(0), add_special_tokens=False)["input_ids"]
        return TokenOutput(token_ids=ids + [self.tokenizer.eos_token_id], log_probs=[-0.5] * (len(ids) + 1))


def run_loop(commands: list[str], task_id: str, tmp_path, response_length: int = 4096):
    """Instantiate the loop as verl does (hydra, from the written agent_loop.yaml) and run one row."""
    pytest.importorskip("verl.experimental.agent_loop.agent_loop")
    import hydra
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.experimental.agent_loop.agent_loop import DictConfigWrap, ToolListWrap

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("tiny", ENV))
    config = OmegaConf.create({"actor_rollout_ref": {"rollout": {"prompt_length": 4096,
                                                                 "response_length": response_length}},
                               "data": {}})
    server = ScriptedServer(tokenizer, commands)
    adapter.write_dataset(tmp_path, ENV, "valid_seen", style="compact", limit=3)
    [entry] = OmegaConf.load(tmp_path / "agent_loop.yaml")
    loop = hydra.utils.instantiate(config=entry, trainer_config=DictConfigWrap(config), server_manager=server,
                                   tokenizer=tokenizer, processor=None, hf_model_type=None, dataset_cls=None,
                                   data_config=DictConfigWrap(config.data), tools=ToolListWrap([]))
    [row] = [r for r in adapter.task_rows(ENV, "valid_seen", style="compact", limit=3)
             if r["extra_info"]["task_id"] == task_id]
    output = asyncio.get_event_loop().run_until_complete(
        loop.run({"temperature": 1.0}, raw_prompt=row["prompt"], extra_info=row["extra_info"]))
    return output, server, tokenizer


def test_the_agent_loop_plays_the_task_through_verls_token_machinery(tmp_path) -> None:
    env = gym.make(ENV, split="valid_seen").unwrapped
    env.reset(options={"task_id": "valid_seen-0002"})
    plan = []
    while (command := env.expert_action()) is not None:
        plan.append(command)
        env.step(command)
    output, server, tokenizer = run_loop(plan, "valid_seen-0002", tmp_path)
    assert output.reward_score == 1.0 and output.extra_fields["won"] is True
    assert output.extra_fields["steps"] == len(plan) and output.extra_fields["turn_scores"][-1] == 1.0
    assert len({request_id for request_id, _ in server.calls}) == 1  # one id per trajectory
    # exactly the model's tokens are trained: the masked-in tokens are the scripted commands, in order
    trained = [token for token, keep in zip(output.response_ids, output.response_mask) if keep]
    scripted = [t for command in plan
                for t in tokenizer(command, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]]
    assert trained == scripted
    assert len(output.response_logprobs) == len(output.response_ids)
    # each later turn's prompt is the earlier prompt plus the model's answer and the env's observation
    second_prompt = server.calls[1][1]
    assert second_prompt[: len(server.calls[0][1])] == server.calls[0][1]
    assert output.num_turns == 2 * len(plan)


def test_a_garbage_script_ends_at_the_turn_limit_with_reward_zero(tmp_path) -> None:
    output, server, _ = run_loop(["dance"] * 40, "valid_seen-0000", tmp_path)
    assert output.reward_score == 0.0 and output.extra_fields["won"] is False
    assert output.extra_fields["steps"] == 40 == len(server.calls)
    assert output.extra_fields["turn_scores"] == [0.0] * 40


def test_verls_dataset_reads_the_rows_and_the_loop_plays_them(tmp_path) -> None:
    """The parquet goes through verl's own RLHFDataset; its row drives the loop."""
    pytest.importorskip("verl.utils.dataset.rl_dataset")
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    path = adapter.write_dataset(tmp_path, ENV, "valid_seen", style="compact", limit=2)
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("tiny", ENV))
    dataset = RLHFDataset(str(path), tokenizer, OmegaConf.create({"max_prompt_length": 4096,
                                                                    "cache_dir": str(tmp_path / "cache")}))
    row = dataset[1]
    assert row["agent_name"] == "spa_gym_agent" and row["extra_info"]["task_id"] == "valid_seen-0001"
    assert [dict(m) for m in row["raw_prompt"]] == adapter.task_rows(ENV, "valid_seen", style="compact",
                                                                      limit=2)[1]["prompt"]

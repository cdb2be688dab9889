"""verl: spa-gym's envs as a verl agent loop, and the task dataset that points verl's rollouts at them.

verl (0.9) trains LLM agents with Ray, FSDP or Megatron and vLLM or SGLang servers, on GPUs. Its
agent loops drive multi-turn rollouts: :class:`SpaGymAgentLoop` is one. For each dataset row it
resets the row's spa-gym task, lets verl's LLM server write each turn, steps the env with the parsed
command and appends the env's answer as a user turn. Only the model's tokens are trained
(``response_mask`` 1); the answers are masked out. The trajectory's reward is the env's outcome
(``reward_score``, which verl places on the last token), so no reward function is needed; with an
estimator, ``extra_fields["turn_scores"]`` holds SPA's per-turn rewards (verl's own advantage
estimators read one reward per trajectory; per-turn credit needs an estimator that reads them).

Two steps on a GPU machine (``pip install verl`` there; it is not a spa-gym dependency)::

    python -m spa_gym.integrations.verl --env SPA-ALFWorld-v0 --split train --out data/alfworld
    python -m verl.trainer.main_ppo \\
        data.train_files=data/alfworld/train.parquet data.val_files=data/alfworld/train.parquet \\
        data.max_prompt_length=4096 data.max_response_length=4096 \\
        actor_rollout_ref.model.path=Qwen/Qwen2.5-1.5B-Instruct actor_rollout_ref.rollout.name=vllm \\
        actor_rollout_ref.rollout.agent.agent_loop_config_path=data/alfworld/agent_loop.yaml \\
        algorithm.adv_estimator=grpo actor_rollout_ref.rollout.n=8

The first writes ``<split>.parquet`` (one row per task, the agent loop named in each row) and
``agent_loop.yaml`` (the loop's registration, with its settings). No ALFWorld or WebShop download,
no Java: the envs are spa-gym's. verl itself is not needed to build the dataset, only to run it.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any
from uuid import uuid4

import gymnasium as gym

from ..agents.prompts import build_messages, format_observation, get_prompt, parse_action
from ..envs import ENV_SPECS

AGENT_NAME = "spa_gym_agent"
#: Where verl's hydra finds the loop (the module's own name, also when it runs as ``__main__``).
AGENT_LOOP_TARGET = "spa_gym.integrations.verl.SpaGymAgentLoop"


def task_rows(env_id: str, split: str, style: str = "react", limit: int | None = None,
              **env_kwargs: Any) -> list[dict[str, Any]]:
    """verl dataset rows, one per task of ``split``: the chat up to the task's first observation,
    the agent loop's name, and where to find the task (``extra_info``).

    Example:
        >>> rows = task_rows("SPA-WebShop-v0", "test", style="compact", limit=2)
        >>> [row["extra_info"]["task_id"] for row in rows], rows[0]["agent_name"]
        (['test-0000', 'test-0001'], 'spa_gym_agent')
        >>> [message["role"] for message in rows[0]["prompt"]]
        ['system', 'user']
    """
    import spa_gym  # noqa: F401  (registers the ids)

    env = gym.make(env_id, split=split, **env_kwargs)
    prompt = get_prompt(env_id, style)  # type: ignore[arg-type]
    ids = env.unwrapped.task_ids()
    rows = []
    for index, task_id in enumerate(ids[:limit] if limit is not None else ids):
        observation, _ = env.reset(options={"task_id": task_id})
        rows.append({
            "data_source": f"spa_gym/{env_id}",
            "prompt": build_messages(prompt, observation),
            "agent_name": AGENT_NAME,
            "reward_model": {"style": "env", "ground_truth": ""},
            "extra_info": {"index": index, "env_id": env_id, "split": split, "task_id": task_id},
        })
    env.close()
    return rows


def write_dataset(out_dir: str | os.PathLike[str], env_id: str, split: str, style: str = "react",
                  max_turns: int | None = None, limit: int | None = None,
                  estimator: str | None = None, **env_kwargs: Any) -> Path:
    """Write ``<split>.parquet`` and ``agent_loop.yaml`` into ``out_dir``; returns the parquet's path."""
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{split}.parquet"
    pd.DataFrame(task_rows(env_id, split, style, limit, **env_kwargs)).to_parquet(path)
    settings = {"style": style, "max_turns": max_turns, "env_kwargs": env_kwargs, "estimator": estimator}
    # JSON is valid YAML: the registration verl's agent-loop config path expects, a list of entries.
    entry = {"name": AGENT_NAME, "_target_": AGENT_LOOP_TARGET, **settings}
    (out / "agent_loop.yaml").write_text(json.dumps([entry], indent=2) + "\n")
    return path


def _agent_loop_base() -> type:
    """verl's ``AgentLoopBase``; a one-line error where verl is not installed."""
    try:
        from verl.experimental.agent_loop.agent_loop import AgentLoopBase
    except ImportError as error:
        raise ImportError(f"SpaGymAgentLoop runs inside verl: pip install verl ({error})") from None
    return AgentLoopBase


def __getattr__(name: str) -> Any:
    if name == "SpaGymAgentLoop":  # built on first use, so that this module imports without verl
        cls = _build_agent_loop_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _build_agent_loop_class() -> type:
    base = _agent_loop_base()
    from verl.experimental.agent_loop.agent_loop import AgentLoopOutput

    class SpaGymAgentLoop(base):  # type: ignore[misc, valid-type]
        """A verl agent loop that plays one spa-gym task per dataset row (see the module docstring).

        Settings (the entries of ``agent_loop.yaml`` besides ``name`` and ``_target_``): ``style``
        (the prompt style the dataset was written with), ``max_turns`` (the env's step limit; default
        the benchmark's), ``env_kwargs`` (for ``gym.make``), ``estimator`` (a saved
        :class:`~spa_gym.progress.ProgressEstimator` folder: per-turn SPA rewards in ``turn_scores``).
        """

        def __init__(self, *args: Any, style: str = "react", max_turns: int | None = None,
                     env_kwargs: dict[str, Any] | None = None, estimator: str | None = None, **kwargs: Any):
            kwargs.pop("tools", None)  # verl offers its tool list to every loop; this one uses none
            super().__init__(*args, **kwargs)
            self.style = style
            self.max_turns = max_turns
            self.env_kwargs = dict(env_kwargs or {})
            self.estimator_path = estimator
            self.response_length = self.rollout_config.response_length

        async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
            info = kwargs["extra_info"]
            episode = await self.loop.run_in_executor(None, lambda: _Episode(
                info["env_id"], info["split"], info["task_id"], self.env_kwargs, self.max_turns, self.estimator_path))
            try:
                return await self._play(episode, sampling_params, kwargs["raw_prompt"])
            finally:
                episode.env.close()

        async def _play(self, episode: _Episode, sampling_params: dict[str, Any],
                        raw_prompt: Sequence[dict[str, str]]) -> AgentLoopOutput:
            messages = [dict(message) for message in raw_prompt]
            ids = await self.ct_build_initial_tokens(messages)
            mask: list[int] = []
            logprobs: list[float] = []
            request_id = uuid4().hex  # one per trajectory: the server may reuse its prefix cache
            turns = answers = 0
            while not episode.done and len(mask) < self.response_length:  # the env's step limit ends it
                output = await self.server_manager.generate(request_id=request_id, prompt_ids=ids,
                                                            sampling_params=sampling_params)
                merged, mask, merged_logprobs = await self.ct_merge_assistant_token(
                    ids, output.token_ids, mask, logprobs if (logprobs or output.log_probs) else None,
                    assistant_logprobs=output.log_probs or None)
                ids, logprobs = merged.token_ids, merged_logprobs or []
                turns += 1
                text = self.tokenizer.decode(output.token_ids, skip_special_tokens=True)
                answer = await self.loop.run_in_executor(None, episode.step, parse_action(text, self.style))
                if episode.done or len(mask) >= self.response_length:
                    break
                previous = list(messages)
                messages += [{"role": "assistant", "content": text},
                             {"role": "user", "content": format_observation(answer, self.style)}]
                merged, mask, merged_logprobs = await self.ct_merge_context_msg(
                    previous, messages, ids, mask, logprobs or None)
                ids, logprobs = merged.token_ids, merged_logprobs or []
                answers += 1
            response = ids[len(ids) - len(mask):] if mask else []
            return AgentLoopOutput(
                prompt_ids=ids[: len(ids) - len(mask)],
                response_ids=response[: self.response_length],
                response_mask=mask[: self.response_length],
                response_logprobs=logprobs[: self.response_length] if logprobs else None,
                reward_score=episode.final_reward,
                num_turns=1 + turns + answers,
                metrics={},
                extra_fields={"turn_scores": episode.turn_rewards, "won": episode.won, "steps": turns},
            )

    SpaGymAgentLoop.__module__, _, SpaGymAgentLoop.__qualname__ = AGENT_LOOP_TARGET.rpartition(".")
    return SpaGymAgentLoop


class _Episode:
    """One spa-gym episode for the agent loop: the env, and SPA's per-turn rewards if an estimator is given."""

    def __init__(self, env_id: str, split: str, task_id: str, env_kwargs: dict[str, Any],
                 max_turns: int | None = None, estimator: str | None = None):
        import spa_gym  # noqa: F401

        limit = {"max_episode_steps": max_turns} if max_turns is not None else {}
        env: gym.Env = gym.make(env_id, split=split, **limit, **env_kwargs)
        if estimator is not None:
            from ..wrappers import SPARewardWrapper

            env = SPARewardWrapper(env, _load_estimator(estimator))
        self.env = env
        self.env.reset(options={"task_id": task_id})
        self.done, self.won, self.final_reward = False, False, 0.0
        self.turn_rewards: list[float] = []

    def step(self, action: str) -> str:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.turn_rewards.append(float(reward))  # SPA's reward with an estimator, the env's own otherwise
        self.final_reward = float(info.get("sparse_reward", reward))
        self.won = bool(info["won"])
        self.done = bool(terminated or truncated)
        return observation


@cache
def _load_estimator(path: str) -> Any:
    """A saved estimator, loaded once per worker process (verl builds a new agent loop per trajectory)."""
    from ..progress import ProgressEstimator

    return ProgressEstimator.from_pretrained(path)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spa_gym.integrations.verl``: write a split's verl dataset and agent-loop registration."""
    parser = argparse.ArgumentParser(prog="python -m spa_gym.integrations.verl", description=__doc__.splitlines()[0])
    parser.add_argument("--env", dest="env_id", required=True, choices=sorted(ENV_SPECS))
    parser.add_argument("--split", default="train")
    parser.add_argument("--out", required=True, help="folder for <split>.parquet and agent_loop.yaml")
    parser.add_argument("--style", default="react", choices=["react", "compact"])
    parser.add_argument("--max-turns", type=int, default=None, help="default: the env's step limit")
    parser.add_argument("--limit", type=int, default=None, help="only the first N tasks")
    parser.add_argument("--estimator", default=None, help="saved ProgressEstimator folder: SPA turn_scores")
    args = parser.parse_args(argv)
    path = write_dataset(args.out, args.env_id, args.split, args.style, args.max_turns, args.limit, args.estimator)
    print(f"wrote {path} and {path.parent / 'agent_loop.yaml'}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

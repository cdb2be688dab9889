"""The verifiers (>= 0.4, the v1 stack) environment, run through verifiers' own rollout code.

The model is a scripted OpenAI-compatible endpoint on 127.0.0.1 (no network): per rollout (verifiers
sends the trace id as ``X-Session-ID``) it answers with the env's expert, replayed on a twin env
from the conversation it is sent, or with a command the env rejects. Episodes run through
``vf-eval``'s in-process runner (``run_eval``) or ``env.serving()`` + ``env.run_slot``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gymnasium as gym
import pytest

vf = pytest.importorskip("verifiers.v1")

from verifiers.v1.cli.eval.runner import run_eval  # noqa: E402
from verifiers.v1.configs.cli.eval import EvalConfig  # noqa: E402

import spa_gym  # noqa: E402,F401
from conftest import untrained_but_varied  # noqa: E402
from spa_gym.agents.prompts import build_messages, format_assistant, get_prompt, parse_action  # noqa: E402
from spa_gym.integrations.verifiers_env import (  # noqa: E402
    SPAGymEnv,
    env_config,
    load_environment,
    run_episodes,
)
from spa_gym.progress import ProgressEstimator, SPAReward  # noqa: E402
from spa_gym.training import tiny_model_path  # noqa: E402
from spa_gym.wrappers import SPARewardWrapper  # noqa: E402

ALFWORLD = "SPA-ALFWorld-v0"
SPLIT = "valid_unseen"
GARBAGE = "Thought: I will try something.\nAction: fly to the moon"


class ScriptedModel:
    """An OpenAI-compatible chat endpoint whose replies are scripted per rollout.

    ``policies`` cycles over the rollouts in the order their first request arrives: ``"expert"``
    replies with the env's expert command for the conversation so far, ``"garbage"`` with
    :data:`GARBAGE`. ``log`` records ``(session, messages)`` of every request.
    """

    def __init__(self, env_id: str, split: str, style: str = "react"):
        self.env_id, self.split, self.style = env_id, split, style
        self.prompt_length = 1 + len(get_prompt(env_id, style).example)  # system + example turns
        self.policies: Callable[[], str] = itertools.cycle(["expert"]).__next__
        self.assigned: dict[str, str] = {}
        self.log: list[tuple[str, list[dict]]] = []
        self.fail = False
        self.lock = threading.Lock()
        model = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, reply = model.answer(self.headers.get("X-Session-ID", ""), body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def script(self, *policies: str) -> None:
        """Assign ``policies`` to the next rollouts, cyclically; forget earlier assignments."""
        with self.lock:
            self.policies = itertools.cycle(policies).__next__
            self.assigned.clear()
            self.log.clear()

    def answer(self, session: str, body: dict) -> tuple[int, dict]:
        messages = body["messages"]
        with self.lock:
            self.log.append((session, messages))
            policy = self.assigned.setdefault(session, self.policies())
        if self.fail:
            return 500, {"error": {"message": "scripted failure"}}
        content = self.expert(messages) if policy == "expert" else GARBAGE
        return 200, {
            "id": "chatcmpl-scripted", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def expert(self, messages: list[dict]) -> str:
        """The expert's next command for this conversation, replayed on a twin env."""
        initial = messages[self.prompt_length]["content"]
        actions = [parse_action(m["content"], self.style) for m in messages[self.prompt_length + 1:]
                   if m["role"] == "assistant"]
        env = gym.make(self.env_id, split=self.split)
        observation, _ = env.reset(seed=0, options={"task_id": task_of(self.env_id, self.split, initial)})
        for action in actions:
            env.step(action)
        return format_assistant(env.unwrapped.expert_action(), None, self.style)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_TASKS: dict[tuple[str, str], dict[str, str]] = {}


def task_of(env_id: str, split: str, observation: str) -> str:
    """The task id whose initial observation (seed 0) is ``observation``."""
    if (env_id, split) not in _TASKS:
        env = gym.make(env_id, split=split)
        table = {}
        for index in range(env.unwrapped.num_tasks()):
            first, info = env.reset(seed=0, options={"task_index": index})
            table.setdefault(first, info["task_id"])
        _TASKS[env_id, split] = table
    return _TASKS[env_id, split][observation]


@pytest.fixture(scope="module")
def model():
    server = ScriptedModel(ALFWORLD, SPLIT)
    yield server
    server.close()


def client(model: ScriptedModel) -> vf.EvalClientConfig:
    return vf.EvalClientConfig(base_url=model.url, api_key_var="SPA_GYM_TEST_NO_KEY")


def eval_config(model: ScriptedModel, tmp_path, **kwargs) -> EvalConfig:
    rollouts = kwargs.pop("num_rollouts", 1)
    return EvalConfig(env=env_config(ALFWORLD, SPLIT, **kwargs), model="scripted", client=client(model),
                      num_rollouts=rollouts, push=False, rich=None, output_dir=tmp_path)


def twin_replay(env_id: str, split: str, task_id: str, actions: list[str], **make_kwargs) -> list[str]:
    """The observations ``gym.make(env_id)`` answers to ``actions`` from the task's reset (seed 0)."""
    env = gym.make(env_id, split=split, **make_kwargs)
    first, _ = env.reset(seed=0, options={"task_id": task_id})
    return [first] + [env.step(action)[0] for action in actions]


def wire(trace: vf.Trace) -> list[dict[str, str]]:
    return [{"role": message.role, "content": message.content} for message in trace.messages]


def assert_conversation_is_the_env(trace: vf.Trace, env_id: str = ALFWORLD, split: str = SPLIT) -> list[str]:
    """The trace's chat is the prompt, then each reply and the twin env's answer to its command,
    ending with the last reply; returns the commands."""
    replies = [message.content for message in trace.assistant_messages]
    actions = [parse_action(reply) for reply in replies]
    observations = twin_replay(env_id, split, trace.task.data.task_id, actions)
    history = list(zip(replies[:-1], observations[1:-1]))
    expected = build_messages(get_prompt(env_id, "react"), observations[0], history)
    expected.append({"role": "assistant", "content": replies[-1]})
    assert wire(trace) == expected
    steps = trace.info["spa_gym"]["steps"]
    assert [step["action"] for step in steps] == actions
    assert [step["observation"] for step in steps] == observations[1:]
    return actions


def test_expert_replies_win_through_vf_eval_with_reward_one(model, tmp_path):
    model.script("expert")
    episodes = asyncio.run(run_eval(eval_config(model, tmp_path, num_tasks=2)))
    assert len(episodes) == 2
    for episode in episodes:
        assert episode.ok, episode.errors
        (trace,) = episode.traces
        assert trace.ok and not trace.errors
        assert trace.reward == 1.0
        assert {name: reward.score for name, reward in trace.rewards.items()} == {"outcome": 1.0}
        actions = assert_conversation_is_the_env(trace)
        assert trace.metrics == {"won": 1.0, "steps": float(len(actions)), "grounding": 1.0, "truncated": 0.0}
        assert trace.info["spa_gym"]["terminated"] is True
    assert sorted(episode.traces[0].task.data.task_id for episode in episodes) == ["valid_unseen-0000",
                                                                                     "valid_unseen-0001"]
    (traces_file,) = tmp_path.glob("*/traces.jsonl")  # vf-eval's own record of the run
    records = [json.loads(line) for line in traces_file.read_text().splitlines()]
    assert len(records) == 2


def test_rejected_commands_end_at_max_turns_with_reward_zero(model, tmp_path):
    model.script("garbage")
    (episode,) = asyncio.run(run_eval(eval_config(model, tmp_path, num_tasks=1, max_turns=3)))
    (trace,) = episode.traces
    assert episode.ok
    assert trace.reward == 0.0
    assert trace.rewards["outcome"].score == 0.0
    assert trace.num_turns == 3
    assert assert_conversation_is_the_env(trace) == ["fly to the moon"] * 3
    assert [step["observation"] for step in trace.info["spa_gym"]["steps"]] == ["Nothing happens."] * 3
    assert trace.metrics == {"won": 0.0, "steps": 3.0, "grounding": 0.0, "truncated": 1.0}


def test_concurrent_rollouts_of_one_task_each_play_their_own_env(model, tmp_path, monkeypatch):
    made, make_env = [], SPAGymEnv.make_env
    monkeypatch.setattr(SPAGymEnv, "make_env", lambda self: made.append(make_env(self)) or made[-1])
    model.script("expert", "garbage")
    episodes = asyncio.run(run_eval(eval_config(model, tmp_path, num_tasks=1, max_turns=9, num_rollouts=2)))
    traces = [episode.traces[0] for episode in episodes]
    sessions = [session for session, _ in model.log]
    assert {trace.id for trace in traces} == set(sessions)
    first_a, last_a = sessions.index(traces[0].id), len(sessions) - 1 - sessions[::-1].index(traces[0].id)
    assert any(session == traces[1].id for session in sessions[first_a:last_a]), "the rollouts did not interleave"
    for trace in traces:
        policy = model.assigned[trace.id]
        assert trace.reward == (1.0 if policy == "expert" else 0.0)
        actions = assert_conversation_is_the_env(trace)
        assert (actions == ["fly to the moon"] * 9) == (policy == "garbage")
    assert len(made) == 2 and made[0] is not made[1]
    assert all(trace.state.env is None for trace in traces)  # released with its episode


@pytest.mark.parametrize(("env_id", "split"), [("SPA-WebShop-v0", "test"), ("SPA-VirtualHome-v0", "test_unseen")])
def test_the_other_envs_play_exactly_as_gym_make(env_id, split):
    server = ScriptedModel(env_id, split)
    try:
        env = load_environment(env_id, split, num_tasks=2)
        episodes = asyncio.run(run_episodes(env, model="scripted", client=client(server)))
    finally:
        server.close()
    for episode in episodes:
        (trace,) = episode.traces
        assert episode.ok and trace.reward == 1.0 and trace.metrics["won"] == 1.0
        assert_conversation_is_the_env(trace, env_id, split)


def test_the_taskset_has_one_row_per_task_with_the_agent_prompt():
    for env_id, split in [(ALFWORLD, SPLIT), ("SPA-WebShop-v0", "test"), ("SPA-VirtualHome-v0", "test_unseen")]:
        env = load_environment(env_id, split=split, num_tasks=3)
        assert isinstance(env, SPAGymEnv)
        rows = list(env.taskset)
        twin = gym.make(env_id, split=split)
        assert [row.data.id for row in rows] == twin.unwrapped.task_ids()[:3]
        assert [row.data.idx for row in rows] == [0, 1, 2]
        assert len({row.key for row in rows}) == 3
        for row in rows:
            first, info = twin.reset(seed=0, options={"task_id": row.data.id})
            messages = build_messages(get_prompt(env_id, "react"), first)
            assert [{"role": "system", "content": row.data.system_prompt}] + [
                {"role": m.role, "content": m.content} for m in row.data.prompt] == messages
            assert (row.data.observation, row.data.task) == (first, info["task"])
    whole = load_environment(ALFWORLD, split=SPLIT, style="compact")
    assert len(list(whole.taskset)) == gym.make(ALFWORLD, split=SPLIT).unwrapped.num_tasks() == 134
    assert [m.role for m in next(iter(whole.taskset)).data.prompt] == ["user"]


def test_spa_rewards_are_recorded_per_turn_as_the_wrapper_computes_them(model):
    model.script("expert")
    estimator = untrained_but_varied(ProgressEstimator.from_backbone(tiny_model_path()))
    weights = SPAReward(alpha=1.0, beta=0.5)
    env = load_environment(ALFWORLD, SPLIT, num_tasks=1, estimator=estimator, spa_reward=weights)
    (episode,) = asyncio.run(run_episodes(env, model="scripted", client=client(model)))
    (trace,) = episode.traces
    assert trace.reward == 1.0  # the trace's reward stays the outcome
    steps = trace.info["spa_gym"]["steps"]
    twin = SPARewardWrapper(gym.make(ALFWORLD, split=SPLIT), estimator, weights)
    twin.reset(seed=0, options={"task_id": trace.task.data.task_id})
    for step in steps:
        _, dense, _, _, info = twin.step(step["action"])
        assert (step["progress"], step["spa_reward"]) == (info["progress"], dense)
        assert step["spa_reward"] == weights(step["progress"], step["grounded"], step["reward"])
    assert len({step["progress"] for step in steps}) > 1
    assert trace.metrics["spa_return"] == pytest.approx(sum(step["spa_reward"] for step in steps))
    assert trace.metrics["progress"] == pytest.approx(sum(step["progress"] for step in steps))


def test_a_failed_model_call_fails_the_episode_without_a_reward(model):
    model.script("expert")
    model.fail = True
    try:
        (episode,) = asyncio.run(run_episodes(load_environment(ALFWORLD, SPLIT, num_tasks=1), model="scripted",
                                              client=client(model)))
    finally:
        model.fail = False
    (trace,) = episode.traces
    assert not episode.ok and not trace.ok
    assert trace.errors and "500" in trace.errors[-1].message
    assert trace.rewards == {} and trace.info["spa_gym"]["steps"] == []

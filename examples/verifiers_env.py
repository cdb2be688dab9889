"""Evaluate a chat model on a spa-gym env through verifiers (>= 0.4), as prime-rl would roll it out.

Serve any model behind an OpenAI-compatible endpoint (vLLM, SGLang, llama.cpp's server, a hosted
API), then:

    python3 examples/verifiers_env.py --base-url http://localhost:8000/v1 --model Qwen/Qwen3-4B \\
        --env SPA-WebShop-v0 --split test --tasks 20 [--estimator runs/estimator/best]

Each episode's trace reward is the env's outcome (1.0 on success; WebShop's purchase score);
``--estimator`` also records SPA's per-step rewards (``trace.info["spa_gym"]["steps"]``). The API
key is read from ``$OPENAI_API_KEY`` (``--api-key-var`` to change; unset is fine for local servers).
"""

from __future__ import annotations

import argparse
import asyncio
import json

import verifiers.v1 as vf

from spa_gym.integrations.verifiers_env import load_environment, run_episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--api-key-var", default="OPENAI_API_KEY")
    parser.add_argument("--env", default="SPA-ALFWorld-v0")
    parser.add_argument("--split", default="valid_unseen")
    parser.add_argument("--tasks", type=int, default=10, help="the first N tasks of the split")
    parser.add_argument("--rollouts", type=int, default=1, help="episodes per task")
    parser.add_argument("--max-turns", type=int, help="model turns per episode (default: SPA-RL's step limit)")
    parser.add_argument("--style", choices=["react", "compact"], default="react")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--estimator", help="a saved ProgressEstimator folder: record SPA's per-step rewards")
    args = parser.parse_args()

    env = load_environment(args.env, args.split, args.tasks, args.max_turns, args.style, estimator=args.estimator)
    client = vf.EvalClientConfig(base_url=args.base_url, api_key_var=args.api_key_var)
    episodes = asyncio.run(run_episodes(env, model=args.model, client=client, rollouts_per_task=args.rollouts,
                                        max_concurrent=args.concurrency,
                                        sampling=vf.SamplingConfig(temperature=args.temperature)))
    for episode in episodes:
        for trace in episode.traces:
            print(json.dumps({"task": trace.task.data.id, "reward": trace.reward, **trace.metrics,
                              "errors": [error.message for error in trace.errors]}))
    rewards = [trace.reward for episode in episodes for trace in episode.traces if trace.ok]
    won = [trace.metrics.get("won", 0.0) for episode in episodes for trace in episode.traces if trace.ok]
    print(f"{len(rewards)}/{len(episodes)} episodes ran: mean reward {sum(rewards) / max(len(rewards), 1):.3f}, "
          f"success {sum(won) / max(len(won), 1):.3f}")


if __name__ == "__main__":
    main()

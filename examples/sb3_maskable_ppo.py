"""Train sb3-contrib's MaskablePPO on four short SPA-ALFWorld-v0 tasks, with sparse or SPA rewards.

    python3 examples/sb3_maskable_ppo.py                      # sparse reward, ~1 minute on 2 cores
    python3 examples/sb3_maskable_ppo.py --estimator runs/estimator/best   # SPA rewards (beta 0: see below)

With masks every chosen action is admissible, so SPA's grounding term would be a constant bonus per
step that pays the agent to stall; the example keeps alpha * c_t + the final reward (beta = 0).
"""

from __future__ import annotations

import argparse

from sb3_contrib import MaskablePPO
from stable_baselines3.common.vec_env import DummyVecEnv

from spa_gym.integrations.sb3 import make_sb3_env, success_rate
from spa_gym.progress import SPAReward

#: Train tasks of SPA-ALFWorld-v0 whose expert plan is at most 4 commands.
TASKS = [4, 5, 13, 20]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--estimator", help="a saved ProgressEstimator folder for SPA rewards")
    parser.add_argument("--steps", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    make_env = make_sb3_env("SPA-ALFWorld-v0", tasks=TASKS, max_episode_steps=20, estimator=args.estimator,
                            reward=SPAReward(beta=0.0))
    model = MaskablePPO("MlpPolicy", DummyVecEnv([make_env] * 4), n_steps=256, batch_size=256, ent_coef=0.01,
                        seed=args.seed, verbose=1)
    model.learn(args.steps)
    evaluate = make_sb3_env("SPA-ALFWorld-v0", tasks=TASKS, max_episode_steps=20)
    print(f"success: random {success_rate(None, evaluate):.2f}, MaskablePPO {success_rate(model, evaluate):.2f}")


if __name__ == "__main__":
    main()

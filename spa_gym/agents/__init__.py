"""LLM agents: the policy, its prompts, SFT, batched rollouts and evaluation, and PPO's math.

- :mod:`.policy`: :class:`LLMPolicy` (causal LM + value head, LoRA, batched generation keeping ids).
- :mod:`.prompts`: per-env chat prompts (ReAct with an in-context example, or compact) and action parsing.
- :mod:`.conversation`: multi-turn token ids without re-tokenising generated text; history windows.
- :mod:`.incremental`: batched multi-turn generation that keeps the KV cache across turns.
- :mod:`.sft`: supervised fine-tuning on expert trajectories (loss on the agent's tokens only).
- :mod:`.rollout`: episodes in several envs with batched generation; success rate, average reward and
  grounding accuracy with 95% intervals.
- :mod:`.ppo_math`: GAE over steps, token spreading, clipped policy and value losses, KL terms.
- :mod:`.ppo`: the PPO trainer (whole-history episodes, any step-reward scheme).
"""

from .policy import Generation, LLMPolicy
from .prompts import build_messages, get_prompt, parse_action
from .rollout import AgentEpisode, Evaluation, evaluate, play_episodes
from .sft import SFTConfig, train_sft

__all__ = [
    "AgentEpisode",
    "Evaluation",
    "Generation",
    "LLMPolicy",
    "SFTConfig",
    "build_messages",
    "evaluate",
    "get_prompt",
    "parse_action",
    "play_episodes",
    "train_sft",
]

"""LLM agents (policy with value head and LoRA, SFT, PPO, rollouts, tiny-model builder).

Not implemented yet: it is the subject of the issue "LLM agents, PPO with SPA rewards, and the
one-command pipeline". Nothing here is importable beyond this package marker.
"""

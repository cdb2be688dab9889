"""The tensor math of multi-turn, step-level PPO for LLM agents (CleanRL-style: every detail visible).

No model and no env here: functions on tensors only, so each formula can be checked by hand
(``tests/test_ppo_math.py`` does exactly that).

Shapes and masks:

- A batch holds ``B`` episodes of up to ``T`` steps. ``step_mask`` (B, T) bool marks the real steps;
  they must be a prefix of each row (right padding).
- One step = one agent action = a span of generated tokens. Token tensors are (B, L) over the full
  multi-turn sequence. ``action_mask`` (B, L) bool marks the tokens the agent generated (prompt and
  observation tokens are False). ``token_step`` (B, L) long gives the step index ``t`` of each
  action token and -1 elsewhere.
- Token-level log-probs and values are aligned with the token they score: ``logprobs[b, i]`` is
  log pi(token_i | tokens_<i) and ``values[b, i]`` is the value head read on the hidden state that
  predicts token i, i.e. the state *before* token i is emitted.

One PPO update, in the order a trainer calls these functions:

1. ``kl = kl_penalty(logprobs, ref_logprobs, action_mask, cfg.kl_penalty)`` (rollout log-probs, no grad).
2. ``r = kl_adjusted_step_rewards(step_rewards, kl, token_step, step_mask, kl_coef)``; ``step_rewards``
   come from any redistributor (sparse, uniform, outcome-broadcast, SPA).
3. ``v = gather_step_values(token_values, token_step, step_mask)``: V(s_t) at each step's first action token.
4. ``adv, ret = gae_over_steps(r, v, step_mask, dones_last, cfg.gamma, cfg.lam, bootstrap_values)``.
5. ``adv_tok, ret_tok = spread_to_tokens(adv, ...), spread_to_tokens(ret, ...)``; if
   ``cfg.whiten_advantages``: ``adv_tok = whiten(adv_tok, action_mask)`` over the whole batch.
6. For ``cfg.ppo_epochs`` epochs, for each mini-batch: ``pg, stats = policy_loss(...)``,
   ``vf = value_loss(...)``, ``loss = pg + cfg.vf_coef * vf``.

Difference from the paper's code (SPA-RL reuses StepTool's ``StepPPOTrainer`` on TRL 0.10): there,
GAE runs token by token over the whole sequence (gamma 0.99, lam 0.95 per *token*) and each step's
reward is injected at the step's last token. Here GAE runs over *steps* (``docs/design.md``, "Agents"), so
credit does not decay with the number of observation tokens between two actions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

AGGREGATIONS = ("token-mean", "seq-mean-token-mean")
KL_KINDS = ("k1", "k2", "k3", "abs")
#: TRL's names for the same KL estimators (``PPOUpdateConfig.kl_penalty`` in TRL 0.10).
KL_ALIASES = {"kl": "k1", "mse": "k2"}


@dataclass
class PPOUpdateConfig:
    """The knobs of a PPO update (batches, clipping, KL, GAE). Defaults are the paper's (SPA-RL trains
    with StepTool's ``StepTool_ppo.json`` on TRL 0.10.1's defaults) where they apply; each field says
    where it comes from.

    Example:
        >>> cfg = PPOUpdateConfig()
        >>> (cfg.clip_range, cfg.vf_coef, cfg.kl_coef, cfg.gamma, cfg.lam)
        (0.2, 0.1, 0.3, 1.0, 0.95)
        >>> cfg.batch_size // (cfg.mini_batch_size * cfg.gradient_accumulation_steps)  # optimizer steps per epoch
        1
    """

    lr: float = 1e-5
    """Adam learning rate. Paper: StepTool json ``learning_rate`` 1e-5."""
    batch_size: int = 8
    """Episodes per PPO step, per process. Paper: StepTool json (x 4 GPUs = 32 episodes per step)."""
    mini_batch_size: int = 2
    """Episodes per forward/backward pass. Paper: StepTool json."""
    gradient_accumulation_steps: int = 4
    """Mini-batches accumulated per optimizer step. Paper: StepTool json (2 x 4 = 8 = one step per epoch)."""
    ppo_epochs: int = 4
    """Passes over each batch. Paper: TRL 0.10 default."""
    clip_range: float = 0.2
    """Policy ratio clip epsilon. Paper: TRL 0.10 default ``cliprange``."""
    clip_range_value: float | None = 0.2
    """Value clip around the rollout values (None: no clipping). Paper: TRL 0.10 default ``cliprange_value``."""
    vf_coef: float = 0.1
    """Weight of the value loss in the total loss. Paper: TRL 0.10 default."""
    kl_coef: float = 0.3
    """(Initial) KL-to-reference coefficient beta. Paper: StepTool json ``init_kl_coef`` 0.3."""
    kl_penalty: str = "k1"
    """KL estimator, one of ``KL_KINDS``. Paper: StepTool json ``kl_penalty`` "kl" (= k1, logp - ref_logp)."""
    adaptive_kl: bool = True
    """Adapt ``kl_coef`` with :func:`adaptive_kl_coef`. Paper: TRL 0.10 default ``adap_kl_ctrl``."""
    kl_target: float = 6.0
    """Target sequence KL of the adaptive controller. Paper: StepTool json ``target`` 6."""
    kl_horizon: float = 10000.0
    """Horizon of the adaptive controller. Paper: StepTool json ``horizon`` 10000."""
    gamma: float = 1.0
    """Discount per *step*. Ours (``docs/design.md``: GAE over steps); the paper used 0.99 per *token*
    (StepTool json)."""
    lam: float = 0.95
    """GAE lambda per *step*. Ours; the paper used TRL's default 0.95 per *token*."""
    whiten_advantages: bool = True
    """Whiten token advantages over the batch's action tokens. Paper: TRL 0.10 always does."""
    max_grad_norm: float | None = 1.0
    """Gradient-norm clip (None: off). Ours; the paper had none (TRL 0.10 default ``max_grad_norm`` None)."""
    ratio_threshold: float = 10.0
    """Skip (no gradient from) a mini-batch whose mean policy ratio exceeds this. Paper: TRL 0.10 default."""
    aggregation: str = "token-mean"
    """Loss reduction, one of ``AGGREGATIONS``. Paper: TRL's masked mean over all tokens = "token-mean"."""

    def __post_init__(self) -> None:
        backward_batch = self.mini_batch_size * self.gradient_accumulation_steps
        if self.batch_size % backward_batch:
            raise ValueError(
                f"batch_size {self.batch_size} must be a multiple of mini_batch_size x gradient_accumulation_steps"
                f" = {backward_batch}"
            )
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {self.aggregation!r}")
        if KL_ALIASES.get(self.kl_penalty, self.kl_penalty) not in KL_KINDS:
            raise ValueError(f"kl_penalty must be one of {KL_KINDS}, got {self.kl_penalty!r}")
        if not (0.0 <= self.gamma <= 1.0 and 0.0 <= self.lam <= 1.0):
            raise ValueError(f"gamma and lam must lie in [0, 1], got {self.gamma}, {self.lam}")


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """sum(x * mask) / sum(mask) over all entries or along ``dim``; 0 where the mask is empty.

    Entries off the (bool) mask never enter, even if they are NaN, and get no gradient.

    Example:
        >>> masked_mean(torch.tensor([1.0, 2.0, 9.0]), torch.tensor([True, True, False])).item()
        1.5
        >>> masked_mean(torch.tensor([[1.0, 3.0], [5.0, 7.0]]), torch.tensor([[True, True], [False, False]]), dim=1)
        tensor([2., 0.])
    """
    mask = mask.bool()
    total = torch.where(mask, x, 0).sum() if dim is None else torch.where(mask, x, 0).sum(dim)
    count = mask.sum() if dim is None else mask.sum(dim)
    return total / torch.where(count > 0, count, 1).to(total.dtype)


def _aggregate(per_token: torch.Tensor, mask: torch.Tensor, aggregation: str) -> torch.Tensor:
    """Reduce a (B, L) per-token loss over the masked tokens: "token-mean" or "seq-mean-token-mean"."""
    if aggregation == "token-mean":
        return masked_mean(per_token, mask)
    if aggregation == "seq-mean-token-mean":
        per_sequence = masked_mean(per_token, mask, dim=-1)  # (B,)
        return masked_mean(per_sequence, mask.bool().any(dim=-1))  # sequences without action tokens skipped
    raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")


def gae_over_steps(
    rewards: torch.Tensor,
    values: torch.Tensor,
    step_mask: torch.Tensor,
    dones_last: torch.Tensor | None = None,
    gamma: float = 1.0,
    lam: float = 0.95,
    bootstrap_values: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE across the steps of each episode; returns (advantages, returns), both (B, T).

    delta_t = r_t + gamma * V_{t+1} - V_t,   A_t = delta_t + gamma * lam * A_{t+1},   R_t = A_t + V_t.

    After the last real step, V_{t+1} = 0 if ``dones_last[b]`` (terminated; the default when None)
    and ``bootstrap_values[b]`` otherwise (truncated: V of the state after the last observation;
    default 0), and A_{t+1} = 0. Padded steps get advantage 0 and return 0, whatever they hold.

    ``values`` (B, T) are V(s_t), read at each step's first action token (see
    :func:`gather_step_values`). Defaults gamma = 1, lam = 0.95 are per *step*; the paper's code ran
    token-level GAE with gamma 0.99, lam 0.95 (inherited from TRL/StepTool).

    Example (gamma = 1, lam = 0.5; deltas 1 + 1 - 0.5 = 1.5, 0 + 1.5 - 1 = 0.5, 2 + 0 - 1.5 = 0.5):
        >>> adv, ret = gae_over_steps(torch.tensor([[1.0, 0.0, 2.0]]), torch.tensor([[0.5, 1.0, 1.5]]),
        ...                           torch.tensor([[True, True, True]]), gamma=1.0, lam=0.5)
        >>> adv.tolist(), ret.tolist()
        ([[1.875, 0.75, 0.5]], [[2.375, 1.75, 2.0]])
    """
    if rewards.shape != values.shape or rewards.shape != step_mask.shape or rewards.dim() != 2:
        raise ValueError(
            f"rewards, values, step_mask must share a (B, T) shape: {rewards.shape}, {values.shape}, {step_mask.shape}"
        )
    mask = step_mask.bool()
    if (mask[:, 1:] & ~mask[:, :-1]).any():
        raise ValueError("step_mask must mark a prefix of each row (real steps first, then padding)")
    B, T = rewards.shape
    dtype = torch.promote_types(rewards.dtype, values.dtype)
    device = values.device
    if dones_last is None:
        dones_last = torch.ones(B, dtype=torch.bool, device=device)
    if bootstrap_values is None:
        bootstrap_values = torch.zeros(B, dtype=dtype, device=device)
    if dones_last.shape != (B,) or bootstrap_values.shape != (B,):
        raise ValueError(f"dones_last and bootstrap_values must be (B,) = ({B},)")

    rewards = torch.where(mask, rewards.to(dtype), 0)
    values = torch.where(mask, values.to(dtype), 0)
    next_is_real = torch.cat([mask[:, 1:], torch.zeros(B, 1, dtype=torch.bool, device=device)], dim=1)
    is_last = mask & ~next_is_real
    # V(s_{t+1}): the next step's value, or what follows the last real step (0 if terminal, bootstrap if truncated).
    after_last = torch.where(dones_last.bool(), 0, bootstrap_values.to(dtype))  # (B,)
    next_values = torch.cat([values[:, 1:], torch.zeros(B, 1, dtype=dtype, device=device)], dim=1)
    next_values = torch.where(is_last, after_last[:, None], next_values)
    deltas = rewards + gamma * next_values - values  # 0 on padded steps

    advantages_reversed = []
    last_advantage = torch.zeros(B, dtype=dtype, device=device)
    for t in reversed(range(T)):
        last_advantage = deltas[:, t] + gamma * lam * next_is_real[:, t] * last_advantage
        advantages_reversed.append(last_advantage)
    advantages = torch.stack(advantages_reversed[::-1], dim=1) if T else deltas
    returns = torch.where(mask, advantages + values, 0)
    return advantages, returns


def gather_step_values(token_values: torch.Tensor, token_step: torch.Tensor, step_mask: torch.Tensor) -> torch.Tensor:
    """(B, T) value of each step: ``token_values`` at the step's first action token; 0 on padded steps.

    V(s_t) = token_values[b, min{i : token_step[b, i] = t}]. With the alignment of this module
    (value at token i = read on the state that predicts token i), that is the state before acting.

    Example:
        >>> gather_step_values(torch.tensor([[10.0, 11, 12, 13, 14, 15]]), torch.tensor([[-1, 0, 0, -1, 1, 1]]),
        ...                    torch.tensor([[True, True, False]])).tolist()
        [[11.0, 14.0, 0.0]]
    """
    B, L = token_step.shape
    T = step_mask.shape[1]
    positions = torch.arange(L, device=token_step.device).expand(B, L)
    is_action = token_step >= 0
    if (token_step >= T).any():
        raise ValueError(f"token_step holds a step index >= T = {T}")
    first = torch.full((B, T), L, dtype=torch.long, device=token_step.device)
    first = first.scatter_reduce(1, token_step.clamp(min=0), torch.where(is_action, positions, L), reduce="amin")
    mask = step_mask.bool()
    if (mask & (first == L)).any():
        raise ValueError("a real step has no action token")
    gathered = token_values.gather(1, first.clamp(max=L - 1))
    return torch.where(mask, gathered, 0)


def spread_to_tokens(step_values: torch.Tensor, token_step: torch.Tensor, action_mask: torch.Tensor) -> torch.Tensor:
    """(B, L): every action token gets its step's value (an advantage or a return); 0 off the action mask.

    out[b, i] = step_values[b, token_step[b, i]] if action_mask[b, i] else 0.

    Example:
        >>> spread_to_tokens(torch.tensor([[2.0, -1.0]]), torch.tensor([[-1, 0, 0, -1, 1, 1, 1]]),
        ...                  torch.tensor([[False, True, True, False, True, True, True]])).tolist()
        [[0.0, 2.0, 2.0, 0.0, -1.0, -1.0, -1.0]]
    """
    action_mask = action_mask.bool()
    if (action_mask & (token_step < 0)).any():
        raise ValueError("an action token has token_step -1")
    if (token_step >= step_values.shape[1]).any():
        raise ValueError(f"token_step holds a step index >= T = {step_values.shape[1]}")
    spread = step_values.gather(1, token_step.clamp(min=0))
    return torch.where(action_mask, spread, 0)


def whiten(
    values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True, eps: float = 1e-8, *, unbiased: bool = False
) -> torch.Tensor:
    """Masked whitening: (x - mean) / sqrt(var + eps) over the masked entries; entries off the mask become 0.

    mean and var are over the masked entries only; var is the population variance (divide by n),
    or Bessel-corrected (n - 1) with ``unbiased=True`` as TRL's ``masked_whiten`` does. With
    ``shift_mean=False`` the mean is added back (TRL's convention): (x - mean) / std + mean.

    Example (masked entries 1, 5, 1, 5: mean 3, std 2):
        >>> whiten(torch.tensor([1.0, 5.0, 99.0, 1.0, 5.0]), torch.tensor([True, True, False, True, True]), eps=0.0)
        tensor([-1.,  1.,  0., -1.,  1.])
    """
    mask = mask.bool()
    mean = masked_mean(values, mask)
    var = masked_mean((values - mean) ** 2, mask)
    if unbiased:
        n = mask.sum()
        if n < 2:
            raise ValueError("unbiased whitening needs at least 2 masked entries")
        var = var * n / (n - 1)
    whitened = (values - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        whitened = whitened + mean
    return torch.where(mask, whitened, 0)


def policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    action_mask: torch.Tensor,
    clip_range: float = 0.2,
    aggregation: str = "token-mean",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """PPO clipped surrogate over the action tokens; returns (loss, stats).

    ratio = exp(logp - old_logp);  loss_i = max(-A_i * ratio_i, -A_i * clip(ratio_i, 1 - eps, 1 + eps)).

    ``aggregation``: "token-mean" (default, TRL's): mean over all action tokens of the batch;
    "seq-mean-token-mean": mean over each sequence's action tokens, then over the sequences that have any.
    stats (detached, token-mean): ``clipfrac`` share of action tokens where the clipped term is
    strictly larger (so |ratio - 1| > eps); ``approx_kl`` mean of (ratio - 1) - log ratio (k3,
    KL(old || new) >= 0); ``ratio_mean``.

    Example (ratios 1.5 and 0.5, advantage 1: losses max(-1.5, -1.2) = -1.2 and max(-0.5, -0.8) = -0.5):
        >>> old = torch.zeros(1, 2)
        >>> loss, stats = policy_loss(torch.log(torch.tensor([[1.5, 0.5]])), old, torch.ones(1, 2),
        ...                           torch.ones(1, 2, dtype=torch.bool))
        >>> round(loss.item(), 6), stats["clipfrac"].item()
        (-0.85, 0.5)
    """
    mask = action_mask.bool()
    log_ratio = torch.where(mask, logprobs - old_logprobs, 0)  # 0 off the mask: ratio 1, no NaN from padding
    ratio = torch.exp(log_ratio)
    advantages = torch.where(mask, advantages, 0)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    loss = _aggregate(torch.max(unclipped, clipped), mask, aggregation)
    with torch.no_grad():
        stats = {
            "clipfrac": masked_mean((clipped > unclipped).to(ratio.dtype), mask),
            "approx_kl": masked_mean((ratio - 1) - log_ratio, mask),
            "ratio_mean": masked_mean(ratio, mask),
        }
    return loss, stats


def value_loss(
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    action_mask: torch.Tensor,
    clip_range_value: float | None = 0.2,
    aggregation: str = "token-mean",
) -> torch.Tensor:
    """Clipped value loss over the action tokens.

    0.5 * mean(max((V - R)^2, (clip(V, V_old - c, V_old + c) - R)^2)); with ``clip_range_value=None``
    0.5 * mean((V - R)^2). ``aggregation`` as in :func:`policy_loss`.

    Example (V = 1, V_old = 0.5, R = 2, c = 0.2: max((1 - 2)^2, (0.7 - 2)^2) = 1.69):
        >>> one = torch.ones(1, 1, dtype=torch.bool)
        >>> round(value_loss(torch.tensor([[1.0]]), torch.tensor([[0.5]]), torch.tensor([[2.0]]), one).item(), 6)
        0.845
        >>> value_loss(torch.tensor([[1.0]]), torch.tensor([[0.5]]), torch.tensor([[2.0]]), one, None).item()
        0.5
    """
    mask = action_mask.bool()
    values = torch.where(mask, values, 0)
    returns = torch.where(mask, returns, 0)
    per_token = (values - returns) ** 2
    if clip_range_value is not None:
        old_values = torch.where(mask, old_values, 0)
        values_clipped = torch.clamp(values, old_values - clip_range_value, old_values + clip_range_value)
        per_token = torch.max(per_token, (values_clipped - returns) ** 2)
    return 0.5 * _aggregate(per_token, mask, aggregation)


def kl_penalty(
    logprobs: torch.Tensor, ref_logprobs: torch.Tensor, action_mask: torch.Tensor, kind: str = "k1"
) -> torch.Tensor:
    """(B, L) per-token estimate of KL(pi || pi_ref) from sampled tokens; 0 off the action mask.

    With d = logp - ref_logp: k1 = d;  k2 = 0.5 * d^2;  k3 = exp(-d) - 1 + d;  abs = |d|.
    TRL's names "kl" (= k1) and "mse" (= k2) are accepted too.

    Example:
        >>> kl_penalty(torch.tensor([[-1.0, -3.0]]), torch.tensor([[-1.5, -0.5]]), torch.tensor([[True, False]]))
        tensor([[0.5000, 0.0000]])
        >>> kl_penalty(torch.tensor([[-1.0]]), torch.tensor([[-1.5]]), torch.tensor([[True]]), "k2").item()
        0.125
    """
    kind = KL_ALIASES.get(kind, kind)
    d = torch.where(action_mask.bool(), logprobs - ref_logprobs, 0)
    if kind == "k1":
        return d
    if kind == "k2":
        return 0.5 * d**2
    if kind == "k3":
        return torch.expm1(-d) + d  # exp(ref - logp) - 1 - (ref - logp), accurate for small d
    if kind == "abs":
        return d.abs()
    raise ValueError(f"kind must be one of {KL_KINDS} (or {tuple(KL_ALIASES)}), got {kind!r}")


def kl_adjusted_step_rewards(
    step_rewards: torch.Tensor,
    kl_per_token: torch.Tensor,
    token_step: torch.Tensor,
    step_mask: torch.Tensor,
    kl_coef: float | torch.Tensor,
) -> torch.Tensor:
    """(B, T) r_t - kl_coef * sum of the KLs of step t's tokens; 0 on padded steps.

    This is how the KL to the reference enters the per-step reward. (TRL puts -beta * KL on every
    token and the score on the last one; summed per step, which token-level GAE with gamma = lam = 1
    would do, it is the same reward.) Only tokens with ``token_step >= 0`` count.

    Example (step 0 KL 0.5 - 0.1 = 0.4, step 1 KL 0.2 + 0.3 = 0.5, beta 0.5):
        >>> kl_adjusted_step_rewards(torch.tensor([[1.0, 2.0, 5.0]]), torch.tensor([[9.0, 0.5, -0.1, 7.0, 0.2, 0.3]]),
        ...                          torch.tensor([[-1, 0, 0, -1, 1, 1]]), torch.tensor([[True, True, False]]), 0.5)
        tensor([[0.8000, 1.7500, 0.0000]])
    """
    B, T = step_rewards.shape
    if (token_step >= T).any():
        raise ValueError(f"token_step holds a step index >= T = {T}")
    dtype = torch.promote_types(step_rewards.dtype, kl_per_token.dtype)
    is_action = token_step >= 0
    step_kl = torch.zeros(B, T, dtype=dtype, device=step_rewards.device)
    step_kl = step_kl.scatter_add(1, token_step.clamp(min=0), torch.where(is_action, kl_per_token.to(dtype), 0))
    return torch.where(step_mask.bool(), step_rewards.to(dtype) - kl_coef * step_kl, 0)


def adaptive_kl_coef(kl_coef: float, current_kl: float, target: float, n_steps: int, horizon: float) -> float:
    """Ziegler et al. (2019) adaptive KL controller, as TRL's ``AdaptiveKLController.update``.

    beta <- beta * (1 + clip(KL / target - 1, -0.2, 0.2) * n_steps / horizon), with KL the batch mean
    of each episode's summed token KL and n_steps the episodes in the update (all processes).

    Example (KL twice the target: error clipped to 0.2; 0.3 * (1 + 0.2 * 8 / 10000)):
        >>> round(adaptive_kl_coef(0.3, 12.0, 6.0, 8, 10000), 9)
        0.300048
    """
    proportional_error = min(max(current_kl / target - 1.0, -0.2), 0.2)
    new = kl_coef * (1.0 + proportional_error * n_steps / horizon)
    if not math.isfinite(new):
        raise ValueError(f"KL coefficient became {new}")
    return new

"""PPO tensor math against values worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from spa_gym.agents.ppo_math import (
    PPOUpdateConfig,
    adaptive_kl_coef,
    gae_over_steps,
    gather_step_values,
    kl_adjusted_step_rewards,
    kl_penalty,
    masked_mean,
    policy_loss,
    spread_to_tokens,
    value_loss,
    whiten,
)

TIGHT = {"rtol": 1e-6, "atol": 1e-6}
T_, F_ = True, False


def t(*rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)


def b(*rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.bool)


# ---------------------------------------------------------------- masked_mean


def test_masked_mean_all_and_dim_and_empty():
    x = t([1.0, 2.0, float("nan")], [4.0, 8.0, 6.0])
    mask = b([T_, T_, F_], [F_, T_, T_])
    # (1 + 2 + 8 + 6) / 4 = 17 / 4; the NaN is off the mask
    assert_close(masked_mean(x, mask), torch.tensor(4.25), **TIGHT)
    # row 0: (1 + 2) / 2 = 1.5; row 1: (8 + 6) / 2 = 7
    assert_close(masked_mean(x, mask, dim=1), torch.tensor([1.5, 7.0]), **TIGHT)
    # an empty mask gives 0, not NaN
    assert_close(masked_mean(x, torch.zeros_like(mask)), torch.tensor(0.0))


# ---------------------------------------------------------------- GAE over steps


def test_gae_three_steps_terminal_by_hand():
    rewards, values, mask = t([1.0, 0.0, 2.0]), t([0.5, 1.0, 1.5]), b([T_, T_, T_])
    # gamma = 1, lam = 0.5, terminal (V after the last step = 0):
    # delta_2 = 2 + 0   - 1.5 = 0.5   A_2 = 0.5
    # delta_1 = 0 + 1.5 - 1.0 = 0.5   A_1 = 0.5 + 0.5 * 0.5  = 0.75
    # delta_0 = 1 + 1.0 - 0.5 = 1.5   A_0 = 1.5 + 0.5 * 0.75 = 1.875
    # returns = A + V = 2.375, 1.75, 2.0
    adv, ret = gae_over_steps(rewards, values, mask, gamma=1.0, lam=0.5)
    assert_close(adv, t([1.875, 0.75, 0.5]), **TIGHT)
    assert_close(ret, t([2.375, 1.75, 2.0]), **TIGHT)
    # dones_last=True explicitly is the same
    adv2, ret2 = gae_over_steps(rewards, values, mask, b(T_), gamma=1.0, lam=0.5)
    assert_close(adv2, adv, **TIGHT)
    assert_close(ret2, ret, **TIGHT)


def test_gae_truncated_bootstraps():
    rewards, values, mask = t([1.0, 0.0, 2.0]), t([0.5, 1.0, 1.5]), b([T_, T_, T_])
    # truncated, bootstrap V = 2 after the last step; gamma = 1, lam = 0.5:
    # delta_2 = 2 + 2 - 1.5 = 2.5     A_2 = 2.5
    # delta_1 = 0.5                   A_1 = 0.5 + 0.5 * 2.5  = 1.75
    # delta_0 = 1.5                   A_0 = 1.5 + 0.5 * 1.75 = 2.375
    # returns = 2.875, 2.75, 4.0
    adv, ret = gae_over_steps(rewards, values, mask, b(F_), gamma=1.0, lam=0.5, bootstrap_values=torch.tensor([2.0]))
    assert_close(adv, t([2.375, 1.75, 2.5]), **TIGHT)
    assert_close(ret, t([2.875, 2.75, 4.0]), **TIGHT)
    # truncated without bootstrap values: bootstrap 0, same as terminal
    adv0, _ = gae_over_steps(rewards, values, mask, b(F_), gamma=1.0, lam=0.5)
    assert_close(adv0, t([1.875, 0.75, 0.5]), **TIGHT)


def test_gae_padding_discount_and_mixed_dones():
    nan = float("nan")
    rewards = t([1.0, 0.0, 2.0], [1.0, 1.0, nan], [nan, nan, nan])
    values = t([0.5, 1.0, 1.5], [0.0, 0.5, nan], [nan, nan, nan])
    mask = b([T_, T_, T_], [T_, T_, F_], [F_, F_, F_])
    # gamma = 0.5, lam = 1.
    # row 0, truncated with bootstrap 4: next V = 1.0, 1.5, 4
    #   delta_2 = 2 + 0.5 * 4   - 1.5 = 2.5    A_2 = 2.5
    #   delta_1 = 0 + 0.5 * 1.5 - 1.0 = -0.25  A_1 = -0.25 + 0.5 * 2.5   = 1.0
    #   delta_0 = 1 + 0.5 * 1.0 - 0.5 = 1.0    A_0 = 1.0   + 0.5 * 1.0   = 1.5
    #   returns = 2.0, 2.0, 4.0
    # row 1, two real steps, terminal (its bootstrap 100 is ignored): next V = 0.5, 0
    #   delta_1 = 1 + 0         - 0.5 = 0.5    A_1 = 0.5
    #   delta_0 = 1 + 0.5 * 0.5 - 0   = 1.25   A_0 = 1.25 + 0.5 * 0.5 = 1.5
    #   returns = 1.5, 1.0; the padded step (NaN inputs) gets 0, 0
    # row 2, no real step: all 0
    adv, ret = gae_over_steps(
        rewards, values, mask, b(F_, T_, T_), gamma=0.5, lam=1.0, bootstrap_values=torch.tensor([4.0, 100.0, 7.0])
    )
    assert_close(adv, t([1.5, 1.0, 2.5], [1.5, 0.5, 0.0], [0.0, 0.0, 0.0]), **TIGHT)
    assert_close(ret, t([2.0, 2.0, 4.0], [1.5, 1.0, 0.0], [0.0, 0.0, 0.0]), **TIGHT)


def test_gae_lambda_one_gamma_one_is_monte_carlo():
    rewards, values = t([0.5, -1.0, 3.0, 0.25]), t([1.0, 2.0, -1.0, 0.5])
    # gamma = lam = 1, terminal: A_t = (sum of rewards from t) - V_t; returns = reward-to-go 2.75, 2.25, 3.25, 0.25
    adv, ret = gae_over_steps(rewards, values, b([T_] * 4), gamma=1.0, lam=1.0)
    assert_close(ret, t([2.75, 2.25, 3.25, 0.25]), **TIGHT)
    assert_close(adv, t([1.75, 0.25, 4.25, -0.25]), **TIGHT)
    # lam = 0 is one-step TD: A_t = r_t + V_{t+1} - V_t = 0.5 + 2 - 1, -1 - 1 - 2, 3 + 0.5 + 1, 0.25 - 0.5
    adv0, _ = gae_over_steps(rewards, values, b([T_] * 4), gamma=1.0, lam=0.0)
    assert_close(adv0, t([1.5, -4.0, 4.5, -0.25]), **TIGHT)


def test_gae_rejects_gaps_and_bad_shapes():
    with pytest.raises(ValueError, match="prefix"):
        gae_over_steps(t([1.0, 1.0]), t([0.0, 0.0]), b([F_, T_]))
    with pytest.raises(ValueError, match=r"^rewards, values, step_mask must share a \(B, T\) shape: "
                                         r"torch.Size\(\[1, 2\]\), torch.Size\(\[1, 1\]\), torch.Size\(\[1, 2\]\)$"):
        gae_over_steps(t([1.0, 1.0]), t([0.0]), b([T_, T_]))


# ---------------------------------------------------------------- tokens <-> steps

# tokens:      obs obs a0  a0  obs a1  a1  a1  obs
TOKEN_STEP = torch.tensor([[-1, -1, 0, 0, -1, 1, 1, 1, -1]])
ACTION_MASK = TOKEN_STEP >= 0


def test_spread_to_tokens_exact():
    out = spread_to_tokens(t([2.0, -1.0]), TOKEN_STEP, ACTION_MASK)
    assert_close(out, t([0.0, 0.0, 2.0, 2.0, 0.0, -1.0, -1.0, -1.0, 0.0]), rtol=0, atol=0)


def test_spread_to_tokens_two_rows_and_errors():
    token_step = torch.tensor([[0, 1, 1], [-1, 0, -1]])
    out = spread_to_tokens(t([3.0, 4.0], [5.0, 9.0]), token_step, token_step >= 0)
    assert_close(out, t([3.0, 4.0, 4.0], [0.0, 5.0, 0.0]), rtol=0, atol=0)
    with pytest.raises(ValueError, match="^an action token has token_step -1$"):  # an action token without a step
        spread_to_tokens(t([1.0]), torch.tensor([[-1]]), b([T_]))


def test_gather_step_values_first_action_token():
    token_values = t([10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0])
    # step 0 starts at token 2 (value 12), step 1 at token 5 (value 15); step 2 is padding -> 0
    out = gather_step_values(token_values, TOKEN_STEP, b([T_, T_, F_]))
    assert_close(out, t([12.0, 15.0, 0.0]), rtol=0, atol=0)
    with pytest.raises(ValueError, match="no action token"):
        gather_step_values(token_values, TOKEN_STEP, b([T_, T_, T_]))


# ---------------------------------------------------------------- whiten


def test_whiten_population_std():
    x, mask = t([1.0, 5.0, 99.0, 1.0, 5.0]), b([T_, T_, F_, T_, T_])
    # masked entries 1, 5, 1, 5: mean 3, deviations -2, 2, -2, 2, population var 16 / 4 = 4, std 2
    assert_close(whiten(x, mask, eps=0.0), t([-1.0, 1.0, 0.0, -1.0, 1.0]), **TIGHT)
    # default eps 1e-8 changes nothing at this tolerance: 2 / sqrt(4 + 1e-8)
    assert_close(whiten(x, mask), t([-1.0, 1.0, 0.0, -1.0, 1.0]), **TIGHT)
    # shift_mean=False adds the mean 3 back (off-mask stays 0)
    assert_close(whiten(x, mask, shift_mean=False, eps=0.0), t([2.0, 4.0, 0.0, 2.0, 4.0]), **TIGHT)
    # Bessel-corrected (TRL): var 16 / 3, std 4 / sqrt(3), whitened +-2 * sqrt(3) / 4 = +-sqrt(3) / 2
    h = math.sqrt(3.0) / 2
    assert_close(whiten(x, mask, eps=0.0, unbiased=True), t([-h, h, 0.0, -h, h]), **TIGHT)


def test_whiten_2d_mask_gives_zero_mean_unit_std():
    x = t([0.0, 3.0, 7.0], [6.0, -2.0, 1.0])
    mask = b([T_, T_, F_], [T_, F_, F_])
    # masked 0, 3, 6: mean 3, var (9 + 0 + 9) / 3 = 6 -> (x - 3) / sqrt(6)
    s = math.sqrt(6.0)
    assert_close(whiten(x, mask, eps=0.0), t([-3 / s, 0.0, 0.0], [3 / s, 0.0, 0.0]), **TIGHT)


# ---------------------------------------------------------------- policy loss


def _policy_case():
    # ratios 1.5, 0.5, 1.1, 0.7 on action tokens, 1.3 on a prompt token; eps = 0.2
    ratios = t([1.5, 0.5, 1.1, 0.7, 1.3])
    old = t([-1.0, -2.0, -0.5, -3.0, -1.0])
    logp = (old + torch.log(ratios)).requires_grad_(True)
    adv = t([1.0, 1.0, -2.0, -1.0, 5.0])
    mask = b([T_, T_, T_, T_, F_])
    return logp, old, adv, mask


def test_policy_loss_clipping_by_hand():
    logp, old, adv, mask = _policy_case()
    # token 0: r 1.5, A  1: max(-1.5, -1.2) = -1.2  clipped branch
    # token 1: r 0.5, A  1: max(-0.5, -0.8) = -0.5  unclipped
    # token 2: r 1.1, A -2: max( 2.2,  2.2) =  2.2  inside the range, not clipped
    # token 3: r 0.7, A -1: max( 0.7,  0.8) =  0.8  clipped branch
    # token 4: off the mask
    # loss = (-1.2 - 0.5 + 2.2 + 0.8) / 4 = 1.3 / 4 = 0.325; clipfrac 2 / 4; ratio mean 3.8 / 4 = 0.95
    loss, stats = policy_loss(logp, old, adv, mask, clip_range=0.2)
    assert_close(loss, torch.tensor(0.325), **TIGHT)
    assert_close(stats["clipfrac"], torch.tensor(0.5), **TIGHT)
    assert_close(stats["ratio_mean"], torch.tensor(0.95), **TIGHT)
    # k3: mean of (r - 1) - ln r
    k3 = [(r - 1) - math.log(r) for r in (1.5, 0.5, 1.1, 0.7)]
    assert_close(stats["approx_kl"], torch.tensor(sum(k3) / 4), **TIGHT)
    # gradient: d loss / d logp_i = -A_i * r_i / 4 on unclipped tokens, 0 on clipped and masked ones
    loss.backward()
    assert_close(logp.grad, t([0.0, -0.125, 0.55, 0.0, 0.0]), **TIGHT)


def test_policy_loss_no_change_is_minus_mean_advantage():
    logp = t([-1.0, -2.0, -3.0])
    adv = t([1.0, -3.0, 100.0])
    # ratio 1 everywhere: loss = -mean(A) over the mask = -(1 - 3) / 2 = 1; nothing clipped, k3 KL 0
    loss, stats = policy_loss(logp, logp.clone(), adv, b([T_, T_, F_]))
    assert_close(loss, torch.tensor(1.0), **TIGHT)
    assert stats["clipfrac"].item() == 0.0 and stats["approx_kl"].item() == 0.0 and stats["ratio_mean"].item() == 1.0


def test_policy_loss_seq_mean_token_mean():
    # same four tokens laid out as rows: row 0 = tokens 0, 1; row 1 = token 2 (+ pad); row 2 = no action token
    old = t([-1.0, -2.0], [-0.5, 0.0], [0.0, 0.0])
    logp = old + torch.log(t([1.5, 0.5], [1.1, 1.0], [1.0, 1.0]))
    adv = t([1.0, 1.0], [-2.0, 9.0], [4.0, 4.0])
    mask = b([T_, T_], [T_, F_], [F_, F_])
    # per-token losses -1.2, -0.5 | 2.2
    # token-mean:          (-1.2 - 0.5 + 2.2) / 3 = 0.5 / 3
    # seq-mean-token-mean: ((-1.2 - 0.5) / 2 + 2.2) / 2 = (-0.85 + 2.2) / 2 = 0.675 (row 2 skipped)
    token_mean, _ = policy_loss(logp, old, adv, mask)
    seq_mean, _ = policy_loss(logp, old, adv, mask, aggregation="seq-mean-token-mean")
    assert_close(token_mean, torch.tensor(0.5 / 3), **TIGHT)
    assert_close(seq_mean, torch.tensor(0.675), **TIGHT)
    with pytest.raises(ValueError,
                       match=r"^aggregation must be one of \('token-mean', 'seq-mean-token-mean'\), got 'sum'$"):
        policy_loss(logp, old, adv, mask, aggregation="sum")


def test_policy_loss_ignores_nan_off_mask():
    nan = float("nan")
    logp = t([-1.0, nan]).requires_grad_(True)
    loss, stats = policy_loss(logp, t([-1.0, -float("inf")]), t([2.0, nan]), b([T_, F_]))
    loss.backward()
    # one token, ratio 1: loss -2; gradient -A * r = -2; the padding gets none
    assert_close(loss, torch.tensor(-2.0), **TIGHT)
    assert_close(logp.grad, t([-2.0, 0.0]), **TIGHT)
    assert not any(torch.isnan(v) for v in stats.values())


# ---------------------------------------------------------------- value loss


def test_value_loss_with_and_without_clipping():
    values = t([1.0, 2.0, 1.0, 5.0])
    old = t([0.5, 2.5, 0.5, 0.0])
    returns = t([2.0, 1.0, 0.0, 0.0])
    mask = b([T_, T_, T_, F_])
    # c = 0.2
    # token 0: V 1 -> clip to [0.3, 0.7] = 0.7; (1 - 2)^2 = 1, (0.7 - 2)^2 = 1.69 -> 1.69
    # token 1: V 2 -> clip to [2.3, 2.7] = 2.3; (2 - 1)^2 = 1, (2.3 - 1)^2 = 1.69 -> 1.69
    # token 2: V 1 -> clip to 0.7;             (1 - 0)^2 = 1, (0.7 - 0)^2 = 0.49 -> 1 (unclipped larger)
    # token 3: off the mask
    # clipped loss = 0.5 * (1.69 + 1.69 + 1) / 3 = 0.5 * 4.38 / 3 = 0.73
    assert_close(value_loss(values, old, returns, mask, 0.2), torch.tensor(0.73), **TIGHT)
    # no clipping: 0.5 * (1 + 1 + 1) / 3 = 0.5
    assert_close(value_loss(values, old, returns, mask, None), torch.tensor(0.5), **TIGHT)
    # wide clip range (values inside it): same as unclipped
    assert_close(value_loss(values, old, returns, mask, 10.0), torch.tensor(0.5), **TIGHT)


def test_value_loss_gradient_is_zero_when_clipped_branch_wins():
    values = t([1.0, 1.0]).requires_grad_(True)
    # token 0: clipped branch wins (see above) -> no gradient; token 1: unclipped wins -> 0.5 * 2 * (1 - 0) / 2 = 0.5
    loss = value_loss(values, t([0.5, 0.5]), t([2.0, 0.0]), b([T_, T_]), 0.2)
    loss.backward()
    assert_close(values.grad, t([0.0, 0.5]), **TIGHT)


# ---------------------------------------------------------------- KL


def test_kl_penalty_each_kind():
    logp = t([-1.0, -2.0, -3.0])
    ref = t([-1.5, -1.0, -0.5])
    mask = b([T_, T_, F_])
    # d = logp - ref = 0.5, -1.0 (and -2.5 off the mask -> 0)
    assert_close(kl_penalty(logp, ref, mask, "k1"), t([0.5, -1.0, 0.0]), **TIGHT)
    # 0.5 * d^2 = 0.125, 0.5
    assert_close(kl_penalty(logp, ref, mask, "k2"), t([0.125, 0.5, 0.0]), **TIGHT)
    # exp(-d) - 1 + d = exp(-0.5) - 0.5, e - 2
    assert_close(kl_penalty(logp, ref, mask, "k3"), t([math.exp(-0.5) - 0.5, math.e - 2.0, 0.0]), **TIGHT)
    # |d| = 0.5, 1.0
    assert_close(kl_penalty(logp, ref, mask, "abs"), t([0.5, 1.0, 0.0]), **TIGHT)
    # TRL aliases
    assert_close(kl_penalty(logp, ref, mask, "kl"), kl_penalty(logp, ref, mask, "k1"), rtol=0, atol=0)
    assert_close(kl_penalty(logp, ref, mask, "mse"), kl_penalty(logp, ref, mask, "k2"), rtol=0, atol=0)
    with pytest.raises(ValueError,
                       match=r"^kind must be one of \('k1', 'k2', 'k3', 'abs'\) \(or \('kl', 'mse'\)\), got 'full'$"):
        kl_penalty(logp, ref, mask, "full")


def test_kl_adjusted_step_rewards_by_hand():
    step_rewards = t([1.0, 2.0, 5.0], [0.0, 3.0, -4.0])
    #                tokens: obs  a0   a0   obs  a1   a1
    token_step = torch.tensor([[-1, 0, 0, -1, 1, 1], [0, 0, 0, 0, -1, -1]])
    kl = t([9.0, 0.5, -0.1, 7.0, 0.2, 0.3], [0.25, 0.25, 0.25, 0.25, 8.0, 8.0])
    step_mask = b([T_, T_, F_], [T_, F_, F_])
    # beta = 0.5
    # row 0: step 0 KL 0.5 - 0.1 = 0.4 -> 1 - 0.2 = 0.8; step 1 KL 0.2 + 0.3 = 0.5 -> 2 - 0.25 = 1.75; pad -> 0
    # row 1: step 0 KL 4 * 0.25 = 1 -> 0 - 0.5 = -0.5; padded steps -> 0
    out = kl_adjusted_step_rewards(step_rewards, kl, token_step, step_mask, 0.5)
    assert_close(out, t([0.8, 1.75, 0.0], [-0.5, 0.0, 0.0]), **TIGHT)
    # beta as a tensor (adaptive controller state) works the same
    assert_close(kl_adjusted_step_rewards(step_rewards, kl, token_step, step_mask, torch.tensor(0.5)), out, **TIGHT)


def test_adaptive_kl_coef():
    # KL 12 vs target 6: error 1 clipped to 0.2 -> 0.3 * (1 + 0.2 * 8 / 10000) = 0.300048
    assert adaptive_kl_coef(0.3, 12.0, 6.0, 8, 10000) == pytest.approx(0.300048, abs=1e-12)
    # KL 5.4 vs 6: error -0.1 -> 0.3 * (1 - 0.1 * 100 / 1000) = 0.297
    assert adaptive_kl_coef(0.3, 5.4, 6.0, 100, 1000) == pytest.approx(0.297, abs=1e-12)


# ---------------------------------------------------------------- config


def test_config_defaults_and_validation():
    cfg = PPOUpdateConfig()
    batching = (cfg.lr, cfg.batch_size, cfg.mini_batch_size, cfg.gradient_accumulation_steps, cfg.ppo_epochs)
    assert batching == (1e-5, 8, 2, 4, 4)
    losses = (cfg.clip_range, cfg.clip_range_value, cfg.vf_coef, cfg.kl_coef, cfg.kl_penalty)
    assert losses == (0.2, 0.2, 0.1, 0.3, "k1")
    assert (cfg.gamma, cfg.lam, cfg.whiten_advantages, cfg.max_grad_norm) == (1.0, 0.95, True, 1.0)
    with pytest.raises(ValueError,
                       match="^batch_size 6 must be a multiple of mini_batch_size x gradient_accumulation_steps = 8$"):
        PPOUpdateConfig(batch_size=6)  # not a multiple of 2 x 4
    with pytest.raises(ValueError,
                       match=r"^aggregation must be one of \('token-mean', 'seq-mean-token-mean'\), got 'sum'$"):
        PPOUpdateConfig(aggregation="sum")
    with pytest.raises(ValueError, match=r"^kl_penalty must be one of \('k1', 'k2', 'k3', 'abs'\), got 'full'$"):
        PPOUpdateConfig(kl_penalty="full")


# ---------------------------------------------------------------- the pieces together


def test_pipeline_one_episode_by_hand():
    # one episode, 2 steps, terminal; tokens: obs a0 a0 obs a1
    token_step = torch.tensor([[-1, 0, 0, -1, 1]])
    action_mask = token_step >= 0
    logp = t([0.0, -1.0, -1.0, 0.0, -2.0])
    ref = t([0.0, -1.5, -1.0, 0.0, -1.0])
    token_values = t([0.0, 0.5, 9.0, 0.0, 1.0])
    step_mask = b([T_, T_])
    # k1 KL: 0.5, 0 | -1; beta 1: step rewards 0 - 0.5 = -0.5, 1 - (-1) = 2
    kl = kl_penalty(logp, ref, action_mask, "k1")
    r = kl_adjusted_step_rewards(t([0.0, 1.0]), kl, token_step, step_mask, 1.0)
    assert_close(r, t([-0.5, 2.0]), **TIGHT)
    # V = 0.5, 1.0 (first action tokens); gamma = lam = 1: returns 1.5, 2; advantages 1.0, 1.0
    v = gather_step_values(token_values, token_step, step_mask)
    adv, ret = gae_over_steps(r, v, step_mask, gamma=1.0, lam=1.0)
    assert_close(adv, t([1.0, 1.0]), **TIGHT)
    assert_close(ret, t([1.5, 2.0]), **TIGHT)
    assert_close(spread_to_tokens(ret, token_step, action_mask), t([0.0, 1.5, 1.5, 0.0, 2.0]), **TIGHT)
    # all advantages equal: whitening gives zeros on the action tokens
    assert_close(whiten(spread_to_tokens(adv, token_step, action_mask), action_mask), torch.zeros(1, 5), **TIGHT)

"""The optimisation loop: lowers the cost, is reproducible, streams progress, stops early with the best image."""
import threading

import numpy as np
import torch
import pytest

from nst_core import StyleOptions, StyleTransfer
from nst_core.stylize import backtrack_factor, palette_weight, style_balance
from nst_core.options import preset_options


def run(content, styles, **kw):
    reports = []
    image = StyleTransfer(StyleOptions(**kw)).stylize(content, styles, callback=reports.append)
    return image, reports


def test_twenty_steps_halve_the_total_cost(tiny_pair):
    content, style = tiny_pair
    image, reports = run(content, [style], size=64, steps=20, seed=0)
    first, final = reports[0], reports[-1]
    assert final.done and final.step == 20
    assert final.J <= 0.5 * first.J
    assert image.shape == content.shape and image.dtype == np.uint8


def test_same_seed_same_image_and_other_seed_differs(tiny_pair):
    content, style = tiny_pair
    a, _ = run(content, [style], size=48, steps=5, seed=3, init="noise")
    b, _ = run(content, [style], size=48, steps=5, seed=3, init="noise")
    c, _ = run(content, [style], size=48, steps=5, seed=4, init="noise")
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_progress_stream_has_costs_time_and_previews(tiny_pair):
    content, style = tiny_pair
    _, reports = run(content, [style], size=48, steps=6, preview_every=3, optimizer="adam",
                     near_style_gain=False)  # beta as given: J = J_content + beta J_style
    steps = [r for r in reports if not r.done]
    assert [r.step for r in steps] == [1, 2, 3, 4, 5, 6]
    assert [r.image is not None for r in steps] == [False, False, True, False, False, True]
    beta = StyleOptions().beta
    assert all(r.J == pytest.approx(r.J_content + beta * r.J_style) for r in steps)
    assert all(b.elapsed >= a.elapsed for a, b in zip(steps, steps[1:]))
    assert steps[2].image.shape == (48, 48, 3)


def test_stop_returns_best_image_so_far(tiny_pair):
    content, style = tiny_pair
    stop = threading.Event()
    reports = []
    transfer = StyleTransfer(StyleOptions(size=48, steps=50, init="noise"))
    for p in transfer.iter_stylize(content, [style], stop=stop):
        reports.append(p)
        if p.step == 4:
            stop.set()
    final = reports[-1]
    assert final.done and final.stopped and final.step == 4
    assert final.image.shape == (48, 48, 3)
    assert final.J == min(r.J for r in reports[:-1])


def test_coarse_to_fine_schedule_ends_at_full_size(tiny_pair):
    content, style = tiny_pair
    options = StyleOptions(size=64, steps=2, scales=2)
    assert options.schedule() == [(32, 4), (64, 2)]
    image, reports = run(content, [style], size=64, steps=2, scales=2)
    assert [r.size for r in reports[:-1]] == [(32, 32)] * 4 + [(64, 64)] * 2
    assert image.shape == (64, 64, 3)


def test_several_styles_and_blend_weights(tiny_pair):
    content, style = tiny_pair
    other = np.ascontiguousarray(content[:, ::-1])
    only_first, _ = run(content, [style, other], size=32, steps=3, style_blend=(1.0, 0.0))
    alone, _ = run(content, [style], size=32, steps=3)
    assert np.array_equal(only_first, alone)
    with pytest.raises(ValueError, match="2 style blend weights given for 1 style images"):
        run(content, [style], size=32, steps=1, style_blend=(1.0, 1.0))


def test_preserve_color_keeps_the_content_chroma(tiny_pair):
    content, style = tiny_pair
    image, _ = run(content, [style], size=48, steps=5, preserve_color=True)
    from nst_core.images import resize_long_edge
    c = resize_long_edge(content, 48).astype(float)
    g = image.astype(float)
    # RGB minus its luminance (the chroma part) is the content's, up to rounding and clamping
    y = lambda a: a @ np.array([0.299, 0.587, 0.114])
    chroma_diff = np.abs((g - y(g)[..., None]) - (c - y(c)[..., None]))
    assert np.median(chroma_diff) < 3


@pytest.mark.parametrize("bad,message", [
    (dict(content_layer="pool4"), "content layer must be a conv or relu layer of VGG19 .*; got 'pool4'"),
    (dict(style_layers={"relu9_9": 1.0}), "style layer must be a conv or relu layer of VGG19 .*; got 'relu9_9'"),
    (dict(alpha=-1.0), "alpha must be a number from 0 to 1e\\+12; got -1.0"),
    (dict(size=8), "size must be a whole number from 32 to 4096; got 8"),
    (dict(init="paint"), "init must be one of content\\+palette, content, noise, style, content\\+noise; got 'paint'"),
    (dict(palette_start=1.5), "palette start must be a number from 0 to 1; got 1.5"),
    (dict(size=64, scales=3), "scales=3 makes the coarsest size smaller than 32 px"),
])
def test_bad_options_give_one_line_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        StyleOptions(**bad)


def test_presets_set_size_steps_and_schedule():
    quick = preset_options("Quick", seed=5)
    assert quick.size == 512 and quick.seed == 5 and len(quick.schedule()) == quick.scales
    with pytest.raises(ValueError, match="preset must be one of Quick, Balanced, Best; got 'Fast'"):
        preset_options("Fast")


def test_step_ratio_sets_the_steps_of_each_coarser_size():
    assert StyleOptions(size=512, steps=50, scales=3).schedule() == [(128, 200), (256, 100), (512, 50)]
    assert StyleOptions(size=512, steps=50, scales=2, step_ratio=1.2).schedule() == [(256, 60), (512, 50)]
    assert StyleOptions(size=512, steps=3, scales=3, step_ratio=0.1).schedule() == [(128, 1), (256, 1), (512, 3)]
    assert StyleOptions(size=512, steps=0, scales=2, step_ratio=0.5).schedule() == [(256, 0), (512, 0)]
    with pytest.raises(ValueError, match="step ratio must be a number from 0.1 to 10; got 20"):
        StyleOptions(step_ratio=20)


def test_a_step_that_blows_up_is_shortened(tiny_pair):
    """A step whose cost turns infinite (as L-BFGS overshoots can) is shortened; the run goes on, never reporting inf."""
    content, style = tiny_pair
    transfer = StyleTransfer(StyleOptions(size=48, steps=12))
    real_costs, calls = transfer.costs, [0]

    def costs(*args):
        calls[0] += 1
        c = real_costs(*args)
        return {k: v * float("inf") for k, v in c.items()} if calls[0] == 4 else c

    transfer.costs = costs
    reports = list(transfer.iter_stylize(content, [style]))
    J = [r.J for r in reports[:-1]]
    assert len(J) == 12 and all(np.isfinite(J))
    assert calls[0] >= 12 + 1 + 1  # 12 steps, the shortened one re-evaluated, the last landing point
    assert J[-1] < 0.5 * J[0]
    assert np.isfinite(reports[-1].J) and reports[-1].J <= min(J)


def test_cost_never_rises_within_a_stage(tiny_pair):
    content, style = tiny_pair
    reports = list(StyleTransfer(StyleOptions(size=64, steps=15, scales=2)).iter_stylize(content, [style]))[:-1]
    for stage in (0, 1):
        J = [r.J for r in reports if r.stage == stage]
        assert len(J) > 10 and all(b <= a for a, b in zip(J, J[1:])), J


def test_shortening_a_step_keeps_lbfgs_curvature_pairs_true():
    G = torch.zeros(1, 3, 4, 4, requires_grad=True)
    optimizer = torch.optim.LBFGS([G], max_iter=1)
    G.grad = torch.ones_like(G)
    optimizer.step(lambda: torch.tensor(1.0))
    G_before, step, t = torch.zeros_like(G), G.detach().clone(), float(optimizer.state[G]["t"])
    StyleTransfer._shorten_last_step(optimizer, G, G_before, 0.25)
    assert torch.allclose(G.detach(), step / 4) and float(optimizer.state[G]["t"]) == pytest.approx(t / 4)
    assert torch.allclose(optimizer.state[G]["d"].view_as(G) * optimizer.state[G]["t"], G.detach() - G_before)


def test_backtrack_factor_is_the_parabolas_minimum_within_bounds():
    # J(a) = 10 - 4a + 5a^2: J(0) = 10, J'(0) = -4, J(1) = 11 -> minimum at a = 0.4
    assert backtrack_factor(10.0, 11.0, -4.0) == pytest.approx(0.4)
    assert backtrack_factor(10.0, 1e9, -4.0) == 0.01  # a far overshoot: at most 100x shorter per try
    assert 0.49 < backtrack_factor(10.0, 10.5, -40.0) <= 0.5  # a small rise after a steep descent: about half
    assert backtrack_factor(10.0, float("inf"), -4.0) == 0.01


def test_lbfgs_curvature_carried_to_a_finer_scale_keeps_s_dot_y():
    """Pairs (s, y) at 4x4 become (U s, U y / 4) at 8x8: s.y unchanged (exactly for smooth fields, here one value
    per channel), the inverse-Hessian scale 4x larger."""
    torch.manual_seed(0)
    shape = (1, 3, 4, 4)
    s, y = (torch.rand(1, 3, 1, 1).expand(shape).flatten() for _ in range(2))
    G = torch.zeros(1, 3, 8, 8, requires_grad=True)
    G.grad = torch.ones_like(G)
    optimizer = torch.optim.LBFGS([G], max_iter=1)
    StyleTransfer._carry_curvature(optimizer, G, {"shape": torch.Size(shape), "s": [s], "y": [y], "H_diag": 0.5})
    state = optimizer.state[G]
    (s8,), (y8,) = state["old_stps"], state["old_dirs"]
    assert s8.shape == (3 * 8 * 8,) and float(s8.dot(y8)) == pytest.approx(float(s.dot(y)), rel=1e-5)
    assert state["H_diag"] == 2.0 and state["ro"][0] == pytest.approx(1 / float(s8.dot(y8)))
    optimizer.step(lambda: torch.tensor(1.0))  # the first step at the new size uses the carried pair, stores none
    assert len(state["old_dirs"]) == 1 and float(state["d"].dot(G.grad.flatten())) < 0


def test_warm_started_fine_stage_starts_lower_than_a_cold_one(tiny_pair, monkeypatch):
    import nst_core.stylize as stylize
    content, style = tiny_pair
    first_fine_J, carry = {}, stylize.StyleTransfer._carry_curvature
    for warm in (False, True):
        monkeypatch.setattr(stylize.StyleTransfer, "_carry_curvature",
                            staticmethod(carry if warm else lambda *a: None))
        reports = list(StyleTransfer(StyleOptions(size=64, steps=3, scales=2)).iter_stylize(content, [style]))
        first_fine_J[warm] = [r.J for r in reports if r.stage == 1][1]  # J after the first step at 64 px
    assert first_fine_J[True] < first_fine_J[False]


def test_a_finer_stage_starts_from_the_coarser_result_upsampled_leaving_the_detail_to_the_style():
    fine = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    coarse = torch.nn.functional.interpolate(fine, size=(8, 8), mode="area")
    start = StyleTransfer._stage_start(coarse + 0.1, coarse, fine)
    assert start.shape == fine.shape
    assert torch.allclose(start, torch.nn.functional.interpolate(coarse + 0.1, size=(16, 16), mode="bilinear"))
    assert (start - fine).abs().max() > 0.2  # the content's own 16-px detail is not put back



def test_the_palette_start_moves_the_content_towards_the_colours_of_the_heaviest_style(tiny_pair):
    """init="content+palette" (the default) starts from C + p (M(C) - C), M(C) the content in the colours of the style
    of the largest blend weight; with no steps that start is the result."""
    content, style = tiny_pair
    dark = (style * 0.3).astype(np.uint8)
    c_mean = content.reshape(-1, 3).mean(0) / 255
    for blend, styles, wanted in (((), [style], style), ((0.2, 0.8), [style, dark], dark),
                                  ((0.8, 0.2), [style, dark], style)):
        s_mean = wanted.reshape(-1, 3).mean(0) / 255
        for p, expected in ((1.0, s_mean), (0.5, (c_mean + s_mean) / 2)):
            image, _ = run(content, styles, size=64, steps=0, style_blend=blend, palette_start=p,
                           near_style_gain=False)
            mean = image.reshape(-1, 3).mean(0) / 255
            assert np.abs(mean - expected).max() < 0.03, (blend, p, mean, expected)
    assert StyleOptions().init == "content+palette" and StyleOptions().palette_start == 1.0
    for kw in (dict(init="content"), dict(palette_start=0)):
        image, _ = run(content, [style], size=64, steps=0, **kw)
        assert np.abs(image.astype(int) - content.astype(int)).max() <= 1


def test_the_balance_halves_the_palette_start_where_the_colours_carry_little_of_the_style(tiny_pair):
    """A style of the content's own colours (the content flipped): its palette leaves all of J_style, so the start
    goes half way; a flat colour: the palette is nearly the whole style, so it goes all the way. The start taken is
    C + p w (M(C) - C)."""
    content, style = tiny_pair
    flipped = np.ascontiguousarray(np.flip(content, axis=(0, 1)))
    flat = np.full_like(style, (200, 60, 40))
    transfer = StyleTransfer(StyleOptions(size=64, steps=0, precision="fp32"))
    assert transfer.palette_share(content, [flipped], [1.0]) > 0.5
    assert transfer.balance_and_targets(content, [flipped], [1.0])[0].palette == 0.5
    assert transfer.palette_share(content, [flat], [1.0]) < 0.05
    assert transfer.balance_and_targets(content, [flat], [1.0])[0].palette == 1.0
    dark = (style * 0.3).astype(np.uint8)
    share = transfer.palette_share(content, [dark], [1.0])
    weight = transfer.balance_and_targets(content, [dark], [1.0])[0].palette
    assert weight == palette_weight(share)
    image = transfer.stylize(content, [dark])
    full, _ = run(content, [dark], size=64, steps=0, palette_start=weight, near_style_gain=False)
    assert np.abs(image.astype(int) - full.astype(int)).max() <= 1
    for kw in (dict(near_style_gain=False), dict(init="content")):
        assert StyleTransfer(StyleOptions(size=64, **kw)).balance_and_targets(content, [flipped], [1.0])[0].palette == 1


def test_a_stronger_style_gets_more_steps_at_every_size():
    """m = (beta / alpha / 30)^(1/4) within [1, 4]: 16 times the default strength doubles every stage's steps."""
    quick = dict(size=512, steps=9, scales=4)
    assert StyleOptions(**quick).schedule() == [(64, 72), (128, 36), (256, 18), (512, 9)]
    assert StyleOptions(**quick, beta=480).schedule() == [(64, 144), (128, 72), (256, 36), (512, 18)]
    assert StyleOptions(**quick, beta=7.5).schedule() == StyleOptions(**quick).schedule()  # weaker: no fewer
    assert StyleOptions(**quick, beta=4.8, alpha=0.01).strength_factor() == pytest.approx(2.0)
    assert StyleOptions(**quick, alpha=0).strength_factor() == 4.0 == StyleOptions(beta=1e12).strength_factor()
    assert StyleOptions(**quick, beta=0).strength_factor() == 1.0


def test_the_picture_stays_in_range_while_it_is_optimised(tiny_pair):
    """G is clamped to [0, 1] after every step, so a strong style's optimum is one a picture can show."""
    content, style = tiny_pair
    seen = []

    class Watched(StyleTransfer):
        def costs(self, G, *rest, **kw):
            seen.append((float(G.detach().min()), float(G.detach().max())))
            return super().costs(G, *rest, **kw)

    Watched(StyleOptions(size=48, steps=2, beta=1e4, init="content")).stylize(content, [style])  # 4 x 2 steps
    assert len(seen) >= 8 and min(lo for lo, _ in seen) >= 0.0 and max(hi for _, hi in seen) <= 1.0


def test_a_style_of_another_shape_is_compared_per_position():
    """The style's Grams are put on G's count of positions (G^(S) n_G / n_S): a stripe pattern twice as tall as the
    content has the content's statistics, so the content's own style cost is near 0 (a raw Gram would ask for twice
    the energy)."""
    x = np.arange(96)
    stripes = np.repeat(((x // 4) % 2 * 200 + 25).astype(np.uint8)[None, :, None], 96, axis=0).repeat(3, axis=2)
    content, style = stripes[:48], stripes  # 48 x 96 and 96 x 96: the same pattern
    transfer = StyleTransfer(StyleOptions(size=96, style_layers={"relu1_1": 1.0, "relu2_1": 1.0}, precision="fp32"))
    c01, s01 = (torch.from_numpy(v).permute(2, 0, 1)[None].float() / 255 for v in (content, style))
    a_C, grams = transfer.targets(c01, [s01])
    J_same = float(transfer.costs(c01, a_C, grams, [1.0])["J_style"])
    J_flat = float(transfer.costs(torch.full_like(c01, 0.5), a_C, grams, [1.0])["J_style"])
    assert J_same < 0.01 * J_flat
    raw = [{l: g * 2 for l, g in grams[0].items()}]  # the style's own Gram sums, over twice the positions
    assert float(transfer.costs(c01, a_C, raw, [1.0])["J_style"]) > 0.2 * J_flat


def test_style_balance_raises_beta_for_a_near_or_heavier_style_and_lowers_it_for_a_lighter_one():
    """g = max(1, rho / rho_0), rho = energy / J_style; r = J_sums / J_style; m = g r in [1/4, cap]."""
    from nst_core.options import MAX_STYLE_GAIN, NEAR_STYLE_RHO
    from nst_core.stylize import Balance, balance_note, balance_terms, style_balance

    assert balance_terms(2 * NEAR_STYLE_RHO, 1.0, 3.0) == pytest.approx((2.0, 3.0))
    assert balance_terms(0.1 * NEAR_STYLE_RHO, 2.0, 1.0) == pytest.approx((1.0, 0.5))  # far: g at its floor, 1
    assert balance_terms(1.0, 0.0, 0.0) == (MAX_STYLE_GAIN, 1.0)  # the content's own statistics
    assert balance_terms(5 * NEAR_STYLE_RHO, 1.0, 0.0) == (MAX_STYLE_GAIN, 1.0)  # at g's cap r is not used
    assert style_balance(2.0, 1.0) == pytest.approx(2.0)  # r = 1: g alone
    assert style_balance(1.5, 2.0) == pytest.approx(3.0)  # both raise it
    assert style_balance(2.0, 0.5) == pytest.approx(1.0)  # r < 1 lowers g
    assert style_balance(1.0, 0.5) == pytest.approx(0.5)
    assert style_balance(1.0, 0.01) == pytest.approx(1 / MAX_STYLE_GAIN)
    assert style_balance(100.0, 1.0) == MAX_STYLE_GAIN
    assert style_balance(2.0, 2.0, cap=3.0) == 3.0 and style_balance(1.0, 0.01, cap=3.0) == 1 / MAX_STYLE_GAIN
    assert balance_note(Balance(2.0, 1.0)) == "beta raised 2x for a style near the content"
    more, less = ("as its Gram matrices, summed over the style image's positions, weigh " + how + " in the course's cost"
                  for how in ("more", "less"))
    assert balance_note(Balance(1.0, 2.0)) == f"beta raised 2x, {more}"
    assert balance_note(Balance(2.0, 1.5)) == f"beta raised 3x for a style near the content, {more}"
    assert balance_note(Balance(2.0, 0.6)) == "beta raised 1.2x for a style near the content"
    assert balance_note(Balance(1.0, 0.5)) == f"beta lowered to 0.5x, {less}"
    assert (balance_note(Balance(1.0, 0.5), beta="β was", times="×")
            == f"β was lowered to 0.5×, {less}")
    assert balance_note(Balance(1.02, 1.0)) == ""
    assert balance_note(Balance(2.0, 1.0, 0.5)) == ("beta raised 2x for a style near the content; the start went 50% of "
                                                    "the way to the style's colours, as they carry little of its look")
    assert balance_note(Balance(1.0, 1.0, 0.75)).startswith("the start went 75% of the way")


def test_the_start_goes_half_way_to_a_palette_that_carries_little_of_the_style():
    """w = 1 - 1/2 clamp((share - a) / (b - a), 0, 1), (a, b) = PALETTE_CARRIES."""
    from nst_core.options import PALETTE_CARRIES

    low, high = PALETTE_CARRIES
    assert palette_weight(0.0) == palette_weight(low) == 1.0
    assert palette_weight(high) == palette_weight(1.6) == 0.5
    assert palette_weight((low + high) / 2) == pytest.approx(0.75)


def test_a_short_run_raises_beta_less():
    """cap = MAX_STYLE_GAIN min(1, steps / FULL_GAIN_STEPS)^(1/4): the whole gain from FULL_GAIN_STEPS final steps,
    less below (Quick's 9: 4 x (9/30)^(1/4) = 2.96); the run's balance takes the cap of its own steps."""
    from nst_core.options import FULL_GAIN_STEPS, MAX_STYLE_GAIN
    from nst_core.stylize import gain_cap

    assert gain_cap(FULL_GAIN_STEPS) == gain_cap(10 * FULL_GAIN_STEPS) == MAX_STYLE_GAIN
    assert gain_cap(8) == pytest.approx(MAX_STYLE_GAIN * (8 / FULL_GAIN_STEPS) ** 0.25)
    assert gain_cap(1) < gain_cap(8) < gain_cap(29) < MAX_STYLE_GAIN
    assert gain_cap(1) > 1.0  # a one-step run still lifts a pale style


def test_a_style_gets_beta_times_the_balance_measured_on_the_content(tiny_pair):
    """m = style_balance(balance_terms(mean(1/2 a_C^2), J_style(C), J_sums(C))) at the run's size: recomputed from
    the targets and from the style's raw Gram sums; a style of the content's own shape has r = 1; the content's own
    picture as its style (J_style(C) = 0) takes the cap of the run's steps, and the run's J is alpha J_content +
    m beta J_style."""
    from nst_core.stylize import balance_terms, gain_cap

    content, style = tiny_pair
    options = StyleOptions(size=64, steps=2, precision="fp32")
    transfer = StyleTransfer(options)
    c01, s01 = transfer._stage_images(content, [style], 64)
    a_C, grams = transfer.targets(c01, s01)
    J_style_C = float(transfer.costs(c01, a_C, grams, [1.0])["J_style"])
    J_sums_C = float(transfer.costs(c01, a_C, transfer._style_grams(s01), [1.0])["J_style"])
    energy = 0.5 * float(a_C.float().pow(2).mean())
    assert transfer.style_gain(content, [style], [1.0]) == pytest.approx(
        style_balance(*balance_terms(energy, J_style_C, J_sums_C), gain_cap(2)), rel=1e-6)
    assert c01.shape != s01[0].shape and J_sums_C != pytest.approx(J_style_C, rel=1e-3)  # another shape: r != 1
    same_shape = np.ascontiguousarray(np.flip(content, axis=(0, 1)))  # the content's shape: sums = on positions
    c01, s01 = transfer._stage_images(content, [same_shape], 64)
    a_C, grams = transfer.targets(c01, s01)
    J_style_C = float(transfer.costs(c01, a_C, grams, [1.0])["J_style"])
    J_sums_C = float(transfer.costs(c01, a_C, transfer._style_grams(s01), [1.0])["J_style"])
    assert J_sums_C == pytest.approx(J_style_C, rel=1e-6)
    assert transfer.style_gain(content, [content], [1.0]) == gain_cap(2)
    off = StyleTransfer(StyleOptions(size=64, steps=2, precision="fp32", near_style_gain=False))
    assert off.style_gain(content, [content], [1.0]) == 1.0

    last = list(transfer.iter_stylize(content, [content]))[-2]
    assert transfer.effective_beta == pytest.approx(options.beta * gain_cap(2))
    assert last.J == pytest.approx(options.alpha * last.J_content + transfer.effective_beta * last.J_style, rel=1e-5)


def test_the_stage_at_the_balances_size_takes_the_targets_measured_for_it(tiny_pair, monkeypatch):
    """The balance's two VGG19 passes (content and style at min(size, GAIN_EDGE) px) give that stage's targets: equal to
    ``targets``' own, and ``targets`` is then called only for the other sizes."""
    content, style = tiny_pair
    transfer = StyleTransfer(StyleOptions(size=64, steps=1, scales=2, precision="fp32"))
    terms, known = transfer.balance_and_targets(content, [style], [1.0])
    assert terms.beta_factor == transfer.style_gain(content, [style], [1.0]) and list(known) == [64]
    a_C, grams = transfer.targets(*transfer._stage_images(content, [style], 64))
    assert torch.equal(known[64][0], a_C)
    assert all(torch.allclose(known[64][1][0][l], g, rtol=1e-6) for l, g in grams[0].items())

    sizes = []
    targets = transfer.targets
    monkeypatch.setattr(transfer, "targets", lambda c01, s01, tile=None: sizes.append(max(c01.shape[-2:]))
                        or targets(c01, s01, tile))
    transfer.stylize(content, [style])
    assert sizes == [32]
    transfer.options.near_style_gain = False
    sizes.clear()
    transfer.stylize(content, [style])
    assert sizes == [32, 64]

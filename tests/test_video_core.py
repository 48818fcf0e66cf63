"""Video core: warping along a known shift, the occlusion mask on a known case, the temporal cost's formula, clips
written and read back, bad clips refused in one sentence, and a short clip stylized steadier than frame by frame."""
import numpy as np
import pytest
import torch

from nst_core.checks import InputError
from nst_core.options import StyleOptions
from nst_core.video import frames as frames_module
from nst_core.video.flow import consistency_mask, optical_flow, previous_frame_flow, warp
from nst_core.video.frames import even_size, read_clip, write_clip
from nst_core.video.sequence import ClipStylizer
from nst_core.video.steadiness import flows_of, warping_error
from nst_core.video.temporal import TemporalStyleTransfer, TemporalTarget, temporal_cost
from video_clips import pan, write_pan


@pytest.fixture(scope="module")
def texture():
    return (np.random.default_rng(0).random((40, 80, 3)) * 255).astype(np.uint8)


def test_warp_follows_a_known_shift(texture):
    flow = np.zeros((40, 60, 2), np.float32)
    flow[..., 0] = 3  # warp(I)(x) = I(x + 3)
    assert np.array_equal(warp(texture[:, :60], flow)[:, :57], texture[:, 3:60])


def test_dis_flow_finds_the_pan(tiny_pair):
    a, b = pan(tiny_pair[0], 2, h=48, w=64, step=3)
    backward = optical_flow(b, a)  # b(x) = a(x + 3)
    assert abs(np.median(backward[..., 0]) - 3) < 0.3 and abs(np.median(backward[..., 1])) < 0.3


def test_consistency_mask_on_a_known_case():
    h, w = 20, 30
    backward = np.zeros((h, w, 2), np.float32)
    backward[..., 0] = 2
    forward = -backward.copy()
    mask = consistency_mask(backward, forward)
    assert mask[:, :w - 2].all() and not mask[:, w - 2:].any()  # the last columns came in across the edge
    forward[5:10, 10:15] = 0  # there the forward flow does not undo the backward one: occluded
    mask = consistency_mask(backward, forward)
    assert not mask[5:10, 8:13].any() and mask[12:, :w - 2].all()


def test_temporal_cost_is_the_masked_mean_square():
    gen = torch.Generator().manual_seed(0)
    G, w = torch.rand(1, 3, 4, 5, generator=gen, requires_grad=True), torch.rand(1, 3, 4, 5, generator=gen)
    mask = torch.zeros(1, 1, 4, 5)
    mask[..., :2, :] = 1
    J = temporal_cost(G, w, mask)
    assert J.item() == pytest.approx(((G - w)[..., :2, :] ** 2).sum().item() / 60)
    J.backward()
    assert torch.allclose(G.grad, 2 * mask * (G - w).detach() / 60)


def test_temporal_term_enters_J_with_gamma_D(tiny_pair):
    st = TemporalStyleTransfer(StyleOptions(size=32, scales=1))
    C = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    a_C, grams = st.targets(C, [C])
    G = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    plain = st.costs(G, a_C, grams, [1.0])["J"].item()
    st.target = TemporalTarget(C, torch.ones(1, 1, 32, 32), 1e3)
    costs = st.costs(G, a_C, grams, [1.0])
    assert costs["J"].item() == pytest.approx(plain + 1e3 * G.numel() * costs["J_temporal"].item(), rel=1e-5)


def test_clip_round_trip_mp4_and_gif(tmp_path, tiny_pair):
    frames = pan(tiny_pair[0], 5, h=32, w=48)
    for name in ("clip.mp4", "clip.gif"):
        write_clip(str(tmp_path / name), frames, 10)
        back = read_clip(str(tmp_path / name), 48)
        assert len(back.frames) == 5 and back.frames[0].shape == (32, 48, 3) and back.fps == pytest.approx(10)
        assert np.abs(back.frames[2].astype(int) - frames[2]).mean() < 12
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_bounds_resampling_and_even_sizes(tmp_path, tiny_pair):
    write_pan(tmp_path / "c.mp4", tiny_pair[0], 8, fps=10)
    assert len(read_clip(str(tmp_path / "c.mp4"), 48, max_frames=3).frames) == 3
    assert len(read_clip(str(tmp_path / "c.mp4"), 48, seconds=0.5).frames) == 5
    half = read_clip(str(tmp_path / "c.mp4"), 48, fps=5)
    assert len(half.frames) == 4 and half.fps == 5
    faster = read_clip(str(tmp_path / "c.mp4"), 48, seconds=0.5, fps=30)  # the clip has 10 frames a second
    assert len(faster.frames) == 5 and faster.fps == 10  # 0.5 s at the clip's own speed, not 3 times as fast
    assert read_clip(str(tmp_path / "c.mp4"), 35).frames[0].shape[:2] == even_size(32, 48, 35) == (24, 36)


def test_bad_clips_are_one_sentence(tmp_path, tiny_pair, monkeypatch):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    with pytest.raises(InputError, match=r"^notes.mp4: not a video file"):
        read_clip(str(text), 48)
    write_pan(tmp_path / "c.mp4", tiny_pair[0], 6)
    data = (tmp_path / "c.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[:len(data) // 2])
    with pytest.raises(InputError, match=r"^cut.mp4: the video container is corrupt or truncated"):
        read_clip(str(tmp_path / "cut.mp4"), 48)
    import av
    with av.open(str(tmp_path / "empty.mp4"), "w") as container:  # a video track without a single frame
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        container.start_encoding()
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(InputError, match=r"^empty.mp4: the (clip has no frames|file has no video track)\.$"):
        read_clip(str(tmp_path / "empty.mp4"), 48)
    monkeypatch.setattr(frames_module, "MAX_FRAMES", 4)
    with pytest.raises(InputError, match=r"^c.mp4: the clip is longer than the 4 frames one run takes"):
        read_clip(str(tmp_path / "c.mp4"), 48)


def test_a_failed_write_leaves_the_old_file(tmp_path, tiny_pair):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous clip")
    with pytest.raises(Exception):
        write_clip(str(out), [pan(tiny_pair[0], 1)[0], np.zeros((5,), np.uint8)], 10)
    assert out.read_bytes() == b"previous clip" and len(list(tmp_path.iterdir())) == 1


def test_a_clip_is_steadier_than_its_frames_stylized_alone(tiny_pair):
    frames = pan(tiny_pair[0], 4, h=32, w=48, step=2)
    options = StyleOptions(size=48, steps=6, scales=1)
    stylizer = ClipStylizer(options)
    reports = list(stylizer.iter_stylize(frames, [tiny_pair[1]]))
    assert [r.frame for r in reports if r.result is not None] == [0, 1, 2, 3] and reports[-1].done
    assert stylizer.later.options.steps == 3  # later frames: half the final stage's steps
    alone = [stylizer.first.stylize(f, [tiny_pair[1]]) for f in frames]
    flows = flows_of(frames)
    assert warping_error(reports[-1].results, flows) < 0.5 * warping_error(alone, flows)


def test_every_frame_takes_the_first_frames_style_balance_and_frame_1_its_targets(tiny_pair, monkeypatch):
    """beta does not flicker with the frames' content: the balance is measured once, on frame 1, and later frames use
    it; frame 1's stage at the balance's size takes the targets measured for it instead of computing them again."""
    frames = pan(tiny_pair[0], 3, h=32, w=48, step=2)
    stylizer = ClipStylizer(StyleOptions(size=48, steps=2, scales=1))
    measured, sizes = [], []
    balance_and_targets, targets = stylizer.first.balance_and_targets, stylizer.first.targets
    monkeypatch.setattr(stylizer.first, "balance_and_targets", lambda *a: measured.append(1) or balance_and_targets(*a))
    monkeypatch.setattr(stylizer.later, "balance_and_targets", lambda *a: pytest.fail("a later frame measured its own"))
    monkeypatch.setattr(stylizer.first, "targets", lambda c01, s01, tile=None: sizes.append(max(c01.shape[-2:]))
                        or targets(c01, s01, tile))
    list(stylizer.iter_stylize(frames, [frames[0]]))
    gain = stylizer.first.fixed_balance.beta_factor
    assert stylizer.later.fixed_balance == stylizer.later.balance == stylizer.first.fixed_balance  # starts too
    assert measured == [1] and gain > 1 and stylizer.later.effective_beta == pytest.approx(stylizer.options.beta * gain)
    assert sizes == [] and stylizer.first.known_targets == {}  # frame 1's only stage took the balance's targets


def test_stop_keeps_the_frames_done(tiny_pair):
    import threading
    stop = threading.Event()
    frames = pan(tiny_pair[0], 4, h=32, w=48)
    last = None
    for last in ClipStylizer(StyleOptions(size=48, steps=4, scales=1)).iter_stylize(frames, [tiny_pair[1]],
                                                                                   stop=stop):
        if last.result is not None and last.frame == 1:
            stop.set()
    assert last.done and last.stopped and len(last.results) == 2


def test_previous_frame_flow_masks_what_came_in(tiny_pair):
    a, b = pan(tiny_pair[0], 2, h=48, w=64, step=4)
    _, mask = previous_frame_flow(a, b)
    assert mask[:, -3:].mean() < 0.1 and mask[:, :40].mean() > 0.8

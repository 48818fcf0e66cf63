"""The playground's pictures: synthetic data, filters, the correlation itself and the figures with their highlight."""
import io

import gradio as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from explorer.convs.figures import convolution_figure, see_it
from explorer.convs.kernels import correlate, filter_names, make_filter, window
from explorer.convs.samples import SAMPLES, ekg_signal, moving_clip, sample_photo, sphere_volume
from nst_studio import conv_tab


def test_ekg_has_one_r_peak_in_the_middle_of_each_beat():
    x = ekg_signal(length=600, beats=5)
    assert x.shape == (600,) and x.dtype == np.float32
    assert [int(np.argmax(beat)) for beat in x.reshape(5, 120)] == pytest.approx([60] * 5, abs=2)


def test_sample_data_shapes_and_values():
    photo = sample_photo(32)
    assert photo.shape == (32, 32) and 0 <= photo.min() < photo.max() <= 1
    volume = sphere_volume(16)
    assert volume.shape == (16, 16, 16) and set(np.unique(volume)) == {0.0, 1.0}
    clip = moving_clip(frames=4, size=24)
    assert clip.shape == (4, 24, 24)
    centre_x = [np.nonzero(frame)[1].mean() for frame in clip]
    assert np.diff(centre_x) == pytest.approx([1, 1, 1])  # the disc moves one pixel per frame


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_filters_do_what_their_names_say(nd):
    blur, *changes, spots = (make_filter(name, nd, 5) for name in filter_names(nd))
    assert len(changes) == nd and blur.shape == (5,) * nd
    assert blur.sum() == pytest.approx(1) and np.ptp(blur) == 0
    for axis, w in enumerate(changes):
        assert w.sum() == pytest.approx(0, abs=1e-6)
        assert np.array_equal(w, -np.flip(w, axis))  # right half minus left half along its axis
        assert np.ptp(w.sum(axis=axis)) == pytest.approx(0, abs=1e-6)
    assert spots.sum() == pytest.approx(0, abs=1e-5) and spots[(2,) * nd] == spots.max()
    with pytest.raises(ValueError, match="the filter must be one of blur"):
        make_filter("sharpen", nd, 3)


@settings(max_examples=40, deadline=None)
@given(nd=st.integers(1, 3), data=st.data())
def test_correlate_is_the_sum_over_each_window(nd, data):
    shape = tuple(data.draw(st.integers(3, 7)) for _ in range(nd))
    kernel = tuple(data.draw(st.integers(1, n)) for n in shape)
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    x, w = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(kernel).astype(np.float32)
    y = correlate(x, w)
    assert y.shape == tuple(n - f + 1 for n, f in zip(shape, kernel))
    for i in np.ndindex(y.shape):
        assert y[i] == pytest.approx(float((x[window(i, w.shape)] * w).sum()), abs=1e-4)


def test_1d_figure_aligns_input_filter_and_output():
    x = ekg_signal(length=120, beats=1)
    fig, y, text = convolution_figure(x, make_filter("blur (average)", 1, 9), (50,))
    assert isinstance(fig, Figure) and y.shape == (112,) and len(fig.axes) == 3
    span = fig.axes[0].patches[0]
    assert (span.get_x(), span.get_width()) == (49.5, 9)  # input cells 50..58 make output cell 50
    assert fig.axes[2].lines[1].get_xdata()[0] == 54  # drawn at the centre of its window: 50 + (9 - 1)/2
    assert f"y[50] = Σ x[50:59] ⊙ w = {y[50]:.3f}" in text and "120 ⊛ 9 → 112" in text


def test_image_figure_boxes_the_window_and_the_output_cell():
    x = np.random.default_rng(0).random((12, 16)).astype(np.float32)
    fig, y, text = convolution_figure(x, make_filter("peaks / spots (Mexican hat)", 2, 5), (3, 5))
    assert y.shape == (8, 12) and len(fig.axes) == 3
    box = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)][0]
    assert box.get_xy() == (4.5, 2.5) and (box.get_width(), box.get_height()) == (5, 5)
    cell = [p for p in fig.axes[2].patches if isinstance(p, Rectangle)][0]
    assert cell.get_xy() == (4.5, 2.5) and (cell.get_width(), cell.get_height()) == (1, 1)
    fig.savefig(io.BytesIO(), format="png")
    assert convolution_figure(x, make_filter("blur (average)", 2, 5), (999, 999))[2].startswith(
        "y[7, 11]")  # a position past the end is the last output cell


def boxes(ax):
    return [(p.get_xy(), p.get_width(), p.get_height()) for p in ax.patches if isinstance(p, Rectangle)]


def test_volume_figure_shows_the_filter_in_the_volume_its_slices_and_the_output_cell():
    """3D: the overview holds the filter's box at its place; each input slice of the window has the footprint boxed
    and sits above the filter slice that multiplies it; the output slice has the cell boxed, and the slices' sum is
    that cell's value."""
    x = np.random.default_rng(0).random((8, 12, 16)).astype(np.float32)
    w = make_filter("peaks / spots (Mexican hat)", 3, 5)
    fig, y, text = convolution_figure(x, w, (2, 3, 5))
    overview, *slices, out = fig.axes
    assert overview.name == "3d" and "filter 5×5×5 (orange) at (2, 3, 5)" in overview.get_title()
    fig.savefig(io.BytesIO(), format="png")  # projects the 3D boxes onto the page

    def extent(collection):  # the projected box's (x0, y0, x1, y1) on the page
        points = np.concatenate([path.vertices for path in collection.get_paths()])
        return (*points.min(0), *points.max(0))

    volume, box = overview.collections[-2:]
    assert len(box.get_paths()) == 6 and box.get_edgecolor()[0][:3] == pytest.approx((1.0, 0.647, 0.0), abs=0.01)
    x0, y0, x1, y1 = extent(volume)
    bx0, by0, bx1, by1 = extent(box)
    assert x0 <= bx0 < bx1 <= x1 and y0 <= by0 < by1 <= y1  # the filter's box sits inside the volume's
    moved, _, _ = convolution_figure(x, w, (3, 3, 5))  # one step deeper
    moved.savefig(io.BytesIO(), format="png")
    assert extent(moved.axes[0].collections[-1]) != pytest.approx((bx0, by0, bx1, by1))
    inputs, filters = slices[0::2], slices[1::2]
    assert [ax.get_title() for ax in inputs] == [f"x, depth {z}" for z in range(2, 7)]
    assert [ax.get_title() for ax in filters] == [f"w, slice {m}" for m in range(5)]
    assert all(boxes(ax) == [((4.5, 2.5), 5, 5)] for ax in inputs) and not any(boxes(ax) for ax in filters)
    for m, (ax_x, ax_w) in enumerate(zip(inputs, filters)):
        assert np.array_equal(ax_x.images[0].get_array(), x[2 + m]) and np.array_equal(ax_w.images[0].get_array(), w[m])
    assert boxes(out) == [((4.5, 2.5), 1, 1)] and np.array_equal(out.images[0].get_array(), y[2])
    slice_sums = sum(float((x[2 + m, 3:8, 5:10] * w[m]).sum()) for m in range(5))
    assert y[2, 3, 5] == pytest.approx(slice_sums, abs=1e-4) and f"= {y[2, 3, 5]:.3f}" in out.get_title()


def test_a_deep_filter_shows_at_most_nine_of_its_slices():
    x = np.zeros((20, 20, 20), np.float32)
    fig, _, _ = convolution_figure(x, make_filter("blur (average)", 3, 15), (0, 0, 0))
    inputs = fig.axes[1:-1][0::2]
    assert len(inputs) == 9 and inputs[0].get_title() == "x, depth 0" and inputs[-1].get_title() == "x, depth 14"
    assert "(9 of 15 shown)" in inputs[0].get_ylabel()


@pytest.mark.parametrize("nd, sample", [(nd, name) for nd, names in SAMPLES.items() for name in names])
def test_see_it_handlers_return_figure_and_output_of_the_expected_shape(nd, sample):
    fig, y, _ = see_it(sample, filter_names(nd)[1], 3, (1,) * nd)
    x = SAMPLES[nd][sample]()
    assert isinstance(fig, Figure) and y.shape == tuple(n - 2 for n in x.shape)
    figure = conv_tab.see_it_view(sample, filter_names(nd)[0], 3, *(1,) * nd)
    assert isinstance(figure, Figure) and figure.get_suptitle().startswith(f"y[{', '.join(['1'] * nd)}]")


def test_see_it_handler_shows_bad_input_as_gr_error():
    with pytest.raises(gr.Error, match="the input must be one of EKG-like heartbeat"):
        conv_tab.see_it_view("a cat", "blur (average)", 3, 0)
    with pytest.raises(gr.Error, match="the filter size F must be a whole number from 1 to 600; got 999"):
        conv_tab.see_it_view("EKG-like heartbeat", "blur (average)", 999, 0)
    with pytest.raises(gr.Error, match="the output cell has 3 indexes for this 3D input"):
        conv_tab.see_it_view("spheres in a box (CT-like volume)", "blur (average)", 3, 0)

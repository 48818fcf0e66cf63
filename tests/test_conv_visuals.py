"""The playground's pictures: synthetic data, filters, the correlation itself and the figures with their highlight."""
import io

import gradio as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from explorer.convs.visuals import (SAMPLES, convolution_figure, correlate, ekg_signal, filter_names, make_filter,
                                   moving_clip, sample_photo, see_it, sphere_volume, window)
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
    with pytest.raises(ValueError, match="unknown filter"):
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


@pytest.mark.parametrize("shape, position, slice_title", [((12, 16), (3, 5), None), ((8, 12, 16), (2, 3, 5), "slice 4")])
def test_image_and_volume_figures_box_the_window(shape, position, slice_title):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    fig, y, text = convolution_figure(x, make_filter("peaks / spots (Mexican hat)", len(shape), 5), position)
    assert y.shape == tuple(n - 4 for n in shape) and len(fig.axes) == 3
    box = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)][0]
    assert box.get_xy() == (4.5, 2.5) and (box.get_width(), box.get_height()) == (5, 5)
    assert (slice_title is None) or slice_title in fig.axes[0].get_title()  # input slice 2 + 5 // 2
    fig.savefig(io.BytesIO(), format="png")
    assert convolution_figure(x, make_filter("blur (average)", len(shape), 5), (999,) * len(shape))[2].startswith(
        f"y[{', '.join(str(n - 5) for n in shape)}]")  # a position past the end is the last output cell


@pytest.mark.parametrize("nd, sample", [(nd, name) for nd, names in SAMPLES.items() for name in names])
def test_see_it_handlers_return_figure_and_output_of_the_expected_shape(nd, sample):
    fig, y, _ = see_it(sample, filter_names(nd)[1], 3, (1,) * nd)
    x = SAMPLES[nd][sample]()
    assert isinstance(fig, Figure) and y.shape == tuple(n - 2 for n in x.shape)
    figure = conv_tab.see_it_view(sample, filter_names(nd)[0], 3, *(1,) * nd)
    assert isinstance(figure, Figure) and figure.get_suptitle().startswith(f"y[{', '.join(['1'] * nd)}]")


def test_see_it_handler_shows_bad_input_as_gr_error():
    with pytest.raises(gr.Error, match="unknown sample"):
        conv_tab.see_it_view("a cat", "blur (average)", 3, 0)
    with pytest.raises(gr.Error, match=r"the filter \(999,\) must have the input's 1 dimensions and fit inside it"):
        conv_tab.see_it_view("EKG-like heartbeat", "blur (average)", 999, 0)

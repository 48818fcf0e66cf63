"""Feature visualisation (explorer/units/{param,color,objectives,transforms,render}.py) on a small layer and size:
each image excites its unit far more than any sample photo, units differ, seeds reproduce, steps lower the loss."""
import numpy as np
import pytest
import torch

from explorer.featurevis.color import color_correlation_sqrt, photo_covariance, sample_photos, to_rgb
from explorer.featurevis.objectives import as_objective, channel, neuron
from explorer.featurevis.param import fourier_image, pixel_image
from explorer.featurevis.render import mean_rectified_activation, visualize
from explorer.featurevis.transforms import compose, default_transforms
from explorer.featurevis.vis_settings import VisSettings
from nst_core.checks import InputError
from nst_core.vgg import load_vgg19

LAYER, UNITS, SIZE = "conv3_1", [0, 1, 2, 3], 48
SETTINGS = VisSettings(size=SIZE, steps=8, scales=2, seed=0, precision="fp32")  # 32 steps at 24 px, 8 at 48


@pytest.fixture(scope="module")
def model():
    return load_vgg19()


@pytest.fixture(scope="module")
def synthesised(model):
    *_, last = visualize(model, LAYER, UNITS, SETTINGS)
    return last


def test_each_image_excites_its_unit_more_than_every_sample_photo(model, synthesised):
    assert synthesised.done and not synthesised.stopped and synthesised.images.shape == (4, SIZE, SIZE, 3)
    reached = mean_rectified_activation(model, LAYER, synthesised.images, UNITS)
    photos = sample_photos(SIZE)
    assert len(photos) >= 15
    best_photo = [mean_rectified_activation(model, LAYER, photos, u).max() for u in UNITS]
    assert all(r >= 1.5 * b for r, b in zip(reached, best_photo)), (reached, best_photo)


def test_different_units_give_visibly_different_images(synthesised):
    images = synthesised.images.astype(float)
    for i in range(len(UNITS)):
        for j in range(i + 1, len(UNITS)):
            assert np.abs(images[i] - images[j]).mean() > 20  # grey levels, on average over every pixel


def test_the_same_seed_gives_the_same_pixels(model):
    settings = SETTINGS.replace(size=32, steps=4)
    runs = [list(visualize(model, "conv2_1", [5, 9], s))[-1].images
            for s in (settings, settings, settings.replace(seed=1))]
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


@pytest.mark.parametrize("kind", ["channel", "neuron"])
@pytest.mark.parametrize("param", ["fourier", "pixel"])
def test_a_few_steps_lower_the_objective(model, kind, param):
    settings = VisSettings(size=32, steps=8, scales=1, objective=kind, param=param, transforms=False,
                           precision="fp32", learning_rate=0.05)
    records = list(visualize(model, "conv2_1", [3, 7], settings))
    first, last = records[0].activation, records[-2].activation
    assert all(b > a for a, b in zip(first, last)), (first, last)


def test_objectives_add_and_scale(model):
    x = torch.rand(2, 3, 32, 32)
    acts = model(model.normalize(x), ["conv2_1"])
    T = acts.__getitem__
    c, n = channel("conv2_1", [3, 4]), neuron("conv2_1", [3, 4])
    a = acts["conv2_1"][[0, 1], [3, 4]].clamp(min=0)
    assert torch.allclose(c(T), -a.mean((1, 2)))
    assert torch.allclose(n(T), -a[:, 8, 8])
    assert torch.allclose((2 * c - n / 4)(T), 2 * c(T) - n(T) / 4)
    assert torch.allclose(as_objective("conv2_1:3")(T)[0], c(T)[0])
    with pytest.raises(InputError, match="this layer has units 0 … 127"):
        channel("conv2_1", 128)(T)


def test_a_silent_unit_still_gets_a_gradient(model):
    """RedirectedReLU: a unit <= 0 everywhere on the start image is pushed up, not stuck at zero gradient."""
    x = torch.full((1, 3, 32, 32), 0.5, requires_grad=True)
    acts = model(model.normalize(x), ["conv2_1"])
    silent = int((acts["conv2_1"][0].flatten(1).max(1).values <= 0).nonzero()[0])
    channel("conv2_1", silent)(acts.__getitem__).sum().backward()
    assert x.grad.abs().sum() > 0


def test_fourier_coarse_image_is_the_fine_one_blurred():
    """The coarse stage uses the low frequencies of the same spectrum: its image is close to the fine one averaged
    over 2 x 2 pixels (correlation 0.94 at this seed; a fresh spectrum would give about 0)."""
    (spectrum,), image_f = fourier_image((1, 3, 64, 64), sd=0.1, generator=torch.Generator().manual_seed(0))
    coarse, down = image_f(32).detach().flatten(), torch.nn.functional.avg_pool2d(image_f(64).detach(), 2).flatten()
    assert torch.corrcoef(torch.stack([coarse, down]))[0, 1] > 0.9
    (pixels,), pixel_f = pixel_image((1, 3, 64, 64))
    assert pixel_f(64) is pixels and pixel_f(32).shape == (1, 3, 32, 32)


def test_colour_decorrelation_matches_the_photos_covariance(model):
    c = photo_covariance()
    m = color_correlation_sqrt(c).double().numpy()
    assert np.allclose((m @ m.T) / np.trace(m @ m.T), c / np.trace(c), atol=1e-6)  # M Mᵀ ∝ C
    rgb = to_rgb(lambda size: torch.zeros(1, 3, size, size), model)(8)
    assert torch.allclose(rgb[0, :, 0, 0], torch.tensor([123.68, 116.779, 103.939]) / 255, atol=1e-4)


def test_transforms_keep_the_batch_and_draw_from_the_generator():
    x = torch.rand(3, 3, 64, 64)
    t = compose(default_transforms(64))
    a, b = t(x, torch.Generator().manual_seed(1)), t(x, torch.Generator().manual_seed(1))
    assert a.shape[:2] == (3, 3) and torch.equal(a, b)
    assert not torch.equal(a, t(x, torch.Generator().manual_seed(2)))


def test_settings_explain_bad_values():
    with pytest.raises(InputError, match="size must be a whole number from 32 to 512; got 8"):
        VisSettings(size=8).validate()
    with pytest.raises(InputError, match="objective must be one of channel, neuron"):
        VisSettings(objective="mean").validate()
    assert VisSettings(size=128, steps=20, scales=2).sizes() == [(64, 80), (128, 20)]
    assert VisSettings(size=128, steps=5, scales=3).total_steps == 80 + 20 + 5
    assert VisSettings(size=128, steps=16, scales=3, coarse_factor=2).sizes() == [(32, 64), (64, 32), (128, 16)]
    with pytest.raises(InputError, match="5000 steps, 3 scales and coarse factor 4 make 105000 steps in all"):
        VisSettings(steps=5000, scales=3).validate()

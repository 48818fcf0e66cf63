"""The settings' one declaration (nst_core/schema.py): what each family declares drives its check, its flags and the
app's controls."""
import argparse
import dataclasses
import re

import gradio as gr
import pytest

from explorer.featurevis.vis_settings import VisSettings
from explorer.units.index import ScanSettings
from nst_core.checks import InputError
from nst_core.options import StyleOptions
from nst_core.schema import add_flags, check, spec
from nst_studio.controls import arguments_doc, by_name, control
from nst_studio.lab_settings import LabSettings
from nst_studio.video_settings import VideoSettings

FAMILIES = [StyleOptions, VisSettings, ScanSettings, LabSettings, VideoSettings]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_setting_of_every_family_declares_its_help(family):
    for f in dataclasses.fields(family):
        assert f.metadata["spec"].help, f.name


@pytest.mark.parametrize("family", FAMILIES)
def test_each_declared_range_is_what_the_check_refuses_past(family):
    defaults = family()
    for f in dataclasses.fields(family):
        s = f.metadata["spec"]
        if not s.range or s.range[1] is None or isinstance(getattr(defaults, f.name), bool):
            continue
        too_big = s.range[1] * 2 + 1
        label = re.escape(s.label or f.name.replace("_", " "))
        with pytest.raises(InputError, match=rf"^{label} must be a (whole )?number"):
            check(dataclasses.replace(defaults, **{f.name: too_big}) if family is not StyleOptions
                  else _unchecked(defaults, f.name, too_big))


def _unchecked(options: StyleOptions, name, value) -> StyleOptions:
    """StyleOptions with one value set after its own check (it validates when made)."""
    copy = dataclasses.replace(options)
    setattr(copy, name, value)
    return copy


def test_check_converts_text_to_the_declared_type():
    assert check(dataclasses.replace(VideoSettings(), size="128", seconds="1.5"))["size"] == 128
    assert VisSettings(size="96").validate().size == 96
    with pytest.raises(InputError, match=r"^objective must be one of channel, neuron; got 'brightest'\.$"):
        VisSettings(objective="brightest").validate()
    with pytest.raises(InputError, match=r"^content layer must be a conv or relu layer of VGG19"):
        StyleOptions(content_layer="relu9_9")


def test_flags_come_from_the_declaration():
    parser = argparse.ArgumentParser()
    add_flags(parser, VisSettings)
    args = parser.parse_args(["--size", "64", "--no-transforms", "--coarse-factor", "2"])
    assert (args.size, args.transforms, args.coarse_factor, args.decorrelate) == (64, False, 2, True)
    assert "--no-transforms" in parser.format_help() and "Adam steps at the full size" in parser.format_help()


def test_controls_come_from_the_declaration():
    with gr.Blocks():
        size = control(VisSettings, "size")
        objective = control(VisSettings, "objective")
        seed = control(LabSettings, "seed")
    assert isinstance(size, gr.Slider) and (size.minimum, size.maximum, size.value) == (32, 512, 128)
    assert size.info == spec(VisSettings, "size").help
    assert isinstance(objective, gr.Radio) and [v for _, v in objective.choices] == ["channel", "neuron"]
    assert isinstance(seed, gr.Number) and seed.maximum == spec(LabSettings, "seed").range[1]


def test_handlers_take_their_inputs_by_parameter_name_and_are_documented_from_it():
    def handler(size, style, request=None):
        """Do it."""
    components = {"style": "S", "size": "Z", "other": "O"}
    assert by_name(handler, components) == ["Z", "S"]
    doc = arguments_doc(handler, {"size": "long edge", "style": "the   painting"})
    assert doc.endswith("Args:\n    size: long edge\n    style: the painting\n")

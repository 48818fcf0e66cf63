"""Links to the app's views (nst_studio/links.py): each tab's parameters parsed and checked, a bad or unknown one
left out in one sentence, and the parameters of a view shown (what *Copy link* puts in the address) read back
to the same view. The explorer's linked view, on two uploaded images, is the view a click shows."""
import shutil
import urllib.parse

import gradio as gr
import pytest
from PIL import Image

from nst_core.options import PRESETS
from nst_studio import app, conv_tab, explorer_tab, links, stylize_tab
from nst_studio.images import SKIMAGE_DATA
from units_helpers import write_random_images


def parsed(query: str) -> links.Link:
    return links.parse(dict(urllib.parse.parse_qsl(query.lstrip("?"), keep_blank_values=True)))  # as Starlette reads it


def test_the_unit_explorer_link_of_the_issue():
    link = parsed("?tab=explorer&layer=conv3_1&unit=5")
    assert link == links.Link("explorer", {"layer": "conv3_1", "unit": 5})
    link = parsed("?tab=explorer&layer=conv4_1&unit=37&units_page=3&show=both&method=guided&dataset=OWNER/NAME:test")
    assert link.values == {"layer": "conv4_1", "unit": 37, "units_page": 3, "show": "both", "method": "guided",
                           "dataset": "OWNER/NAME:test"} and not link.problems


@pytest.mark.parametrize("query, values, sentence", [
    ("?tab=explorer&layer=conv3_1&unit=256", {"layer": "conv3_1"},
     "This link's unit of conv3_1 must be a whole number from 0 to 255; got 256 (left out)."),
    ("?tab=explorer&layer=conv9_9&unit=5", {"unit": 5},
     "This link's layer must be one of conv1_1, conv1_2, conv2_1, conv2_2, conv3_1, conv3_2, conv3_3, conv3_4, "
     "conv4_1, conv4_2, conv4_3, conv4_4, conv5_1, conv5_2, conv5_3, conv5_4; got 'conv9_9' (left out)."),
    ("?tab=explorer&dataset=../../etc&show=all", {},
     "This link's dataset must be builtin or a Hugging Face dataset OWNER/NAME[:SPLIT[:COLUMN]]; got '../../etc' "
     "(left out). This link's show must be one of patches, projections, both; got 'all' (left out)."),
    ("?tab=conv&sizes=32x32&colour=red", {"sizes": "32x32"},
     "This link's 'colour' is not a parameter of this tab, which reads part, sizes, channels, filters, kernel, "
     "stride, padding, dilation, groups, transposed, output_padding, filter_channels, stack_sizes, stack_channels, "
     "layers, input, filter, F, cell (left out)."),
    ("?tab=conv&part=see_2d&F=7&cell=20,95", {"part": "see_2d", "F": 7},
     "This link's cell's width index must be a whole number from 0 to 89; got 95 (left out)."),  # 96 − 7
    ("?tab=conv&part=see_3d&cell=1,2", {"part": "see_3d"},
     "This link's cell must have 3 indices for this 3D input, one per dimension; got 2 (left out)."),
    ("?tab=conv&part=see_1d&filter=changes along the width&F=9", {"part": "see_1d", "F": 9},
     "This link's filter must be one of blur (average), changes along the length, peaks / spots (Mexican hat); got "
     "'changes along the width' (left out)."),
    ("?tab=conv&part=stacks&F=3&cell=4", {"part": "stacks"},
     "This link's F, cell are read only with part=see_1d, see_2d or see_3d (left out)."),
    ("?tab=conv&part=stacks&layers=conv,8,3,1,1,1,9", {"part": "stacks"},
     "This link's layers must be 1 to 64 layers separated by ';', each as layer,filters,kernel,stride,padding,"
     "dilation (e.g. 'conv,16,3,1,1;max pool,,2'); got 'conv,8,3,1,1,1,9' (left out)."),
    ("?tab=conv&part=sideways", {},
     "This link's part must be one of layer, stacks, see_1d, see_2d, see_3d; got 'sideways' (left out)."),
    ("?tab=layer_lab&size=999&seed=3", {"seed": 3},
     "This link's size must be a whole number from 32 to 192; got '999' (left out)."),
    ("?tab=paint", {}, "This link opens no tab: tab must be one of stylize, video, layer_lab, conv, explorer; got "
                       "'paint' (left out)."),
    ("?layer=conv3_1", {}, "This link names no tab: add tab=stylize, video, layer_lab, conv, explorer (its parameters "
                           "were left out)."),
    ("?tab=video&size=999&fps=12", {"fps": 12.0},
     "This link's size must be a whole number from 32 to 512; got '999' (left out)."),
    ("?tab=video&temporal_weight=5&preset=Best", {"preset": "Best"},
     "This link's temporal_weight must be one of 0, 1e+08, 1e+09, 1e+10, 1e+11; got '5' (left out)."),
])
def test_a_bad_or_unknown_parameter_is_left_out_in_one_sentence(query, values, sentence):
    link = parsed(query)
    assert link.values == values and link.status == sentence


def test_gradio_and_spaces_parameters_are_not_the_links():
    assert parsed("?__theme=dark&view=api") == links.Link(None, {})
    assert parsed("?tab=conv&__sign=abc") == links.Link("conv", {})


def test_stylize_pictures_preset_and_settings():
    link = parsed("?tab=stylize&content=chelsea&style=hubble_deep_field.jpg&preset=Balanced&strength=4"
                  "&preserve_color=yes&style_layers=relu2_1: 1")
    assert not link.problems
    assert open(link.values["content"], "rb").read() == (SKIMAGE_DATA / "chelsea.png").read_bytes()
    assert links.sample_name(link.values["style"]) == "hubble_deep_field"
    settings = links.stylize_settings(link.values)
    assert (settings["size"], settings["steps"], settings["scales"]) == tuple(PRESETS["Balanced"].values())
    assert settings["strength"] == 4.0 and settings["preserve_color"] is True
    assert settings["style_layers"] == "relu2_1: 1"
    assert tuple(settings) == stylize_tab.SETTING_NAMES  # the controls, in the order the tab lists them


def test_stylize_settings_are_checked_as_a_stylization_checks_them():
    assert parsed("?tab=stylize&content_layer=relu9_9&steps=20").values == {"steps": 20}
    assert parsed("?tab=stylize&style_weight=1.5").status == \
        "This link's style_weight must be a number from 0 to 1; got '1.5' (left out)."
    assert parsed("?tab=stylize&content=../../etc/passwd").status.startswith(
        "This link's content must be a scikit-image sample picture")
    link = parsed("?tab=stylize&preset=Best&size=64&scales=6&seed=2")  # size and scales fail together
    assert link.values == {"preset": "Best", "seed": 2}
    assert "size, steps and scales left out" in link.status
    assert links.stylize_settings(link.values)["size"] == PRESETS["Best"]["size"]


def test_a_sample_is_known_by_its_bytes_not_its_name(tmp_path, monkeypatch):
    shutil.copy(SKIMAGE_DATA / "coffee.png", tmp_path / "coffee.png")
    assert links.sample_name(str(tmp_path / "coffee.png")) == "coffee"
    Image.new("RGB", (8, 8)).save(tmp_path / "chelsea.png")  # an upload that happens to share the name
    assert links.sample_name(str(tmp_path / "chelsea.png")) is None and links.sample_name(None) is None
    said = []
    monkeypatch.setattr(gr, "Info", said.append)
    assert links.pictures(str(tmp_path / "coffee.png"), None) == {"content": "coffee", "style": None} and not said
    assert links.pictures(str(tmp_path / "chelsea.png"), None) == {"content": None, "style": None}
    assert said == ["Your own pictures cannot travel in a link (only scikit-image's samples can): it carries the "
                    "rest."]


def round_trip(tab: str, values: dict) -> links.Link:
    """A view's parameters put in an address, then read back as the page does."""
    return parsed(links.query(tab, values))


def test_copied_views_read_back_the_same():
    coffee, gravel = links.sample("content", "coffee"), links.sample("style", "gravel")
    settings = {**links.STYLIZE_DEFAULTS, **PRESETS["Best"], "strength": 3.5, "preserve_color": True}
    view = links.stylize_link(coffee, gravel, "Best", settings)
    assert view == {"content": "coffee", "style": "gravel", "preset": "Best", "strength": 3.5,
                    "preserve_color": True}
    back = round_trip("stylize", view)
    assert links.stylize_settings(back.values) == settings and links.sample_name(back.values["content"]) == "coffee"
    view = links.lab_link(coffee, gravel, 96, 50, 2, 7)
    assert view == {"content": "coffee", "style": "gravel", "size": 96, "sublayer": 2, "seed": 7}
    assert round_trip("layer_lab", view).values == {**view, "content": coffee, "style": gravel}
    form = ["32x32", 3, 8, "3", "2", "1", "1", 1, True, "1", ""]
    view = links.conv_link(*form)
    assert links.conv_spec(round_trip("conv", view).values).values() == form
    report = conv_tab.linked_layer(round_trip("conv", view).values)[-1]
    assert report.startswith("**Output 64×64×8**")  # transposed: (32 − 1)·2 − 2 + 2 + 1 + 1


def test_the_convolution_sub_tabs_copied_views_read_back_the_same():
    """Stacks and each 'See it work' view: what Copy link writes (only what differs from the view as it opens) reads
    back to the same controls, and the page shows their report or figure."""
    rows = [["conv", "8", "5", "1", "2", "1"], ["", "", "", "", "", ""], ["avg pool", "", "3", "", "", ""]]
    view = links.stack_link("64×64", 3, rows)
    assert view == {"part": "stacks", "stack_sizes": "64×64", "layers": "conv,8,5,1,2,1;avg pool,,3"}
    sizes, channels, table, result, summary, part = conv_tab.linked_stack(round_trip("conv", view).values)
    assert part.selected == "stacks"
    assert (sizes, channels, table) == ("64×64", 3, [rows[0], ["avg pool", "", "3", "", "", ""]])
    assert [row[:2] for row in result] == [["conv1 (conv)", "64×64×8"], ["pool1 (avg pool)", "21×21×8"]]  # 64 // 3
    assert summary.startswith("2 layers: 64×64×3 → **21×21×8**")
    assert links.stack_link("32×32", 3, links.STACK_EXAMPLE) == {"part": "stacks"}  # the example itself
    shown = conv_tab.linked_stack(parsed("?tab=conv&part=stacks&layers=conv,8,3;pool,,2").values)
    assert shown[3] is None and shown[4] == ("layer 2 (pool): the layer must be one of conv, max pool, avg pool; "
                                             "got 'pool'.")  # a stack that cannot be built says why

    photo, blur = "photo (scikit-image camera)", "blur (average)"
    view = links.see_link(2, photo, blur, 7.0, 20.0, 30.0)
    assert view == {"part": "see_2d", "filter": blur, "F": 7, "cell": "20,30"}
    height, width, sample, filter_name, size, figure, part = conv_tab.linked_see_it(2, round_trip("conv", view).values)
    assert (part.selected, sample, filter_name, size) == ("see_2d", photo, blur, 7)
    assert (height["maximum"], height["value"], width["maximum"], width["value"]) == (89, 20, 89, 30)
    assert figure._suptitle.get_text().startswith("y[20, 30] = Σ x[20:27, 30:37] ⊙ w = ")
    ekg, spots, size, (middle,) = links.see_defaults(1).values()
    assert (size, middle) == (9, 300) and links.see_link(1, ekg, spots, 9.0, 300.0) == {"part": "see_1d"}  # as it opens
    assert conv_tab.linked_see_it(3, round_trip("conv", view).values) == [gr.skip()] * 8  # another part: as it is


def test_explorer_copied_view(monkeypatch):
    monkeypatch.setattr(gr, "Info", lambda message: None)
    state = {"layer": "conv2_1", "selected": 17}
    view = explorer_tab.explorer_link(explorer_tab.BUILTIN, "", "conv2_1", "both", "deconvnet", 2, state)
    assert links.query("explorer", view) == "?tab=explorer&layer=conv2_1&unit=17&units_page=2&show=both"
    assert round_trip("explorer", view).values == {"layer": "conv2_1", "unit": 17, "units_page": 2, "show": "both"}
    view = explorer_tab.explorer_link(explorer_tab.HUB, " a/b ", "conv3_1", "patches", "guided", 1, state)
    assert view["dataset"] == "a/b" and view["layer"] is None  # the layer chosen, its page not shown yet
    said = []
    monkeypatch.setattr(gr, "Info", said.append)
    assert explorer_tab.explorer_link(explorer_tab.UPLOAD, "", "conv1_1", "patches", "deconvnet", 1, None) == \
        {"dataset": None, "layer": None, "unit": None, "units_page": None, "show": None, "method": None}
    assert said == ["Uploaded images cannot travel in a link: it opens the built-in photos."]


class Request:
    session_hash = "links"


def test_a_linked_unit_is_shown_as_a_click_shows_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NST_EXPLORER_CACHE", str(tmp_path / "cache"))
    uploads = [str(tmp_path / "up" / name) for name in write_random_images(tmp_path / "up", 2, size=48, seed=3)]
    controls = explorer_tab.linked_controls(parsed("?tab=explorer&layer=conv1_1&unit=40&show=both").values)
    assert controls[2:4] == ("conv1_1", "both") and controls[-1] == {"layer": "conv1_1", "unit": 40, "show": "both"}
    tiles, summary, page, state, detail, said = explorer_tab.show_linked(
        controls[-1], explorer_tab.UPLOAD, uploads, "conv1_1", "both", "deconvnet", 1, "", Request(),
        lambda *a, **k: None)
    assert 40 in state["units"] and state["selected"] == 40  # the page that holds the unit
    assert page == explorer_tab.service.page_of(state["index"], "conv1_1", 40)
    assert said.startswith("**conv1_1 unit 40 · peak ")
    click = type("Click", (), {"index": state["units"].index(40), "value": None})()
    clicked = explorer_tab.show_unit(state, "both", "deconvnet", click)
    assert [c for _, c in clicked] == [c for _, c in detail]  # what a click on the unit shows
    assert explorer_tab.clicked_unit({**state, "selected": None}, click) == (said, state)
    assert explorer_tab.show_linked(None, *[None] * 7) == (gr.skip(),) * 6


def test_every_tab_of_the_app_has_its_links():
    assert tuple(links.tab_id(module) for _, module in app.TABS) == tuple(links.PARAMETERS)
    assert not any({"page", "deep_link"} & set(names) for names in links.PARAMETERS.values())  # Gradio's own

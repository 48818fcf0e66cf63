"""The 1D / 2D / 3D convolution playground tab: one layer's shapes (formula and real torch layer), stacks of layers
with their receptive field, and convolutions to watch on a heartbeat, a photo and a volume.

Every value goes through ``explorer.convs`` (``ConvSpec.validate``, ``make_stack``, ``see_it``), which names a bad
field, its range and the value received. Figures and stack tables are made when their sub-tab is first shown, not
while the app is built."""
from __future__ import annotations

import functools

import gradio as gr

from explorer.convs.figures import SEE_SIZES, see_it
from explorer.convs.kernels import filter_names
from explorer.convs.samples import SAMPLE_EXTENT, SAMPLES, load_sample
from explorer.convs.shapes import DIM_NAMES, LARGEST, PRESETS, ConvSpec, input_shape_from
from explorer.convs.stacks import STACK_COLUMNS, STACK_EXAMPLE, STACK_INPUT, make_stack
from explorer.convs.text import STACK_HEADERS, TORCH_BUDGET, describe, describe_stack, stack_table

from nst_core.checks import InputError

from . import links
from .controls import arguments_doc
from .errors import explained

INTRO = """
## Convolutions in 1D, 2D and 3D
A filter slides over the input and, at each place, multiplies the cells under it by its weights and sums them.
The same rule works for a signal (1D, e.g. an EKG), an image (2D) and a volume (3D: a CT/MRI scan or a clip of
frames). Per spatial dimension, with kernel k, stride s, padding p, dilation d (output padding a):

- convolution: **n_out = ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1** — with s = 1, p = 0, d = 1: **N ⊛ F → N − F + 1**
- transposed convolution: **n_out = (n − 1)·s − 2p + d·(k − 1) + a + 1**

The filter always spans all the input's channels (the number of channels in the filter must match the number of
channels in the input), and each filter makes one output channel: 14×14×14×3 ⊛ 16 filters 5×5×5×3 → 10×10×10×16.
"""
LIMITS = (f"Any size is answered (every number up to 1,000,000,000); a kernel that does not fit gives an empty "
          f"output and says why. {TORCH_BUDGET}")
WHOLE = dict(minimum=1, maximum=LARGEST, precision=0)  # a count: the guard names its range (ConvSpec checks it too)
TAB = links.tab_id(__name__)
STACK_WIDTHS = ["15%", "12%", "14%", "14%", "10%", "11%", "9%", "8%", "7%"]  # one per STACK_HEADERS, 100 % in all
SEE_IT_3D = ("Left: the volume, with the filter's box (orange) where it sits now. Middle: the input's depth slices "
             "under the filter, its footprint boxed, each above the filter slice that multiplies it. Right: the "
             "output slice with the cell their sum makes. Move the sliders to move the filter.")
NO_REPORT = "*No report: the message above names the field to fix.*"  # after a refused form, not the last report


@explained("computing the layer's output shape")
def layer_report(sizes, channels, filters, kernel, stride, padding, dilation, groups, transposed, output_padding,
                 filter_channels) -> str:
    """The output shape of one convolution or transposed convolution (1D, 2D or 3D) in the course's notation and
    PyTorch's, with the formula per dimension, the weight shape, parameters, multiply-adds and the torch check."""
    return describe(ConvSpec(sizes, channels, filters, kernel, stride, padding, dilation, groups, transposed,
                             output_padding, filter_channels).validate())


LAYER_FIELDS = {
    "sizes": "the input's spatial sizes: '14×14×14' (or 14x14x14) for a volume, '32x32' for an image, '100' for a "
             "signal",
    "channels": "the input's channels C, e.g. 3 for RGB",
    "filters": "the number of filters, which is the number of output channels",
    "kernel": "each filter's spatial size: one number for every dimension ('5') or one per dimension ('5x5x5')",
    "stride": "the step between filter positions: one number or one per dimension",
    "padding": "zeros added on each side: one number, one per dimension, 'valid' (0) or 'same'",
    "dilation": "the spacing between filter taps: one number or one per dimension",
    "groups": "channel groups (1: every filter sees every input channel; C: one filter group per channel)",
    "transposed": "true for a transposed convolution (it upsamples)",
    "output_padding": "transposed only: size added to one side of the output, one number or one per dimension",
    "filter_channels": "each filter's input channels; blank for C / groups",
}
layer_report.__doc__ += arguments_doc(layer_report, LAYER_FIELDS)


def linked_layer(values: dict) -> list:
    """The one-layer form a link fills, and its report (or the sentence saying what is wrong with the layer)."""
    spec = links.conv_spec(values)
    try:
        report = describe(spec.validate())
    except InputError as e:
        report = str(e)
    return [*spec.values(), report]


def linked_stack(values: dict) -> list:
    """The Stacks sub-tab a link opens (``part=stacks``): the sub-tab selected, its form filled, and its table and
    summary (or the sentence saying what is wrong with the stack); another part leaves it as it is. (The sub-tab is
    selected last in the update that fills it: its select event reads the form as filled.)"""
    if values.get("part") != "stacks":
        return [gr.skip()] * 6
    form = [values.get("stack_sizes", STACK_INPUT[0]), values.get("stack_channels", STACK_INPUT[1]),
            values.get("layers", STACK_EXAMPLE)]
    try:
        report = list(stack_report.__wrapped__(*form))
    except InputError as e:
        report = [None, str(e)]
    return [*form, *report, gr.Tabs(selected="stacks")]


def linked_see_it(nd: int, values: dict) -> list:
    """A 'See it work' sub-tab a link opens (``part=see_1d`` … ``see_3d``): the output cell sliders (their ends N − F),
    the input, filter and F, the figure, then the sub-tab selected; another part leaves it as it is."""
    if values.get("part") != f"see_{nd}d":
        return [gr.skip()] * (5 + nd)
    view = {**links.see_defaults(nd), **values}
    shape = load_sample(view["input"]).shape
    cell = values.get("cell") or [min(n // 2, n - view["F"]) for n in shape]  # else the middle, within N − F
    cells = [gr.update(maximum=n - view["F"], value=index) for n, index in zip(shape, cell)]
    figure = see_it(view["input"], view["filter"], view["F"], cell)[0]
    return [*cells, view["input"], view["filter"], view["F"], figure, gr.Tabs(selected=f"see_{nd}d")]


@explained("filling in the example")
def preset_form(name: str | None) -> list:
    """The form's values for a preset of the seeds' examples; a dropdown closed without a choice changes nothing."""
    if name is None:
        return [gr.skip()] * len(ConvSpec().values())
    return ConvSpec.from_preset(name).values()


@explained("computing the stack")
def stack_report(sizes, channels, rows) -> tuple[list[list], str]:
    """Shapes, weights, parameters, multiply-adds and receptive field after each layer of a stack (conv, max pool,
    avg pool), and a one-sentence summary."""
    layers = make_stack(input_shape_from(channels, sizes), rows)
    return stack_table(layers), describe_stack(layers)


stack_report.__doc__ += arguments_doc(stack_report, {
    "sizes": LAYER_FIELDS["sizes"], "channels": LAYER_FIELDS["channels"],
    "rows": f"the layers, as {{\"headers\": [{', '.join(STACK_COLUMNS)}], \"data\": [[one row per layer], ...]}}, "
            "'layer' being conv, max pool or avg pool (a pool's filters left blank; blank stride: the kernel size "
            "for a pool, 1 for a conv)",
})


@explained("drawing the convolution")
def see_it_view(sample, filter_name, size, *position):
    """The figure of the 'see it work' view (its title gives the highlighted output cell as a sum)."""
    return see_it(sample, filter_name, size, position)[0]


def _layer_section() -> None:
    presets = gr.Dropdown(list(PRESETS), label="the course's examples", value=None)
    spec = ConvSpec()
    with gr.Row():
        sizes = gr.Textbox(spec.sizes, label="input sizes (1, 2 or 3 numbers)")
        channels = gr.Number(spec.channels, label="input channels", **WHOLE)
        filters = gr.Number(spec.filters, label="number of filters", **WHOLE)
        kernel = gr.Textbox(spec.kernel, label="kernel size (one number or one per dimension)")
        filter_channels = gr.Textbox(spec.filter_channels, label="channels of each filter (blank: as needed)")
    with gr.Row():
        stride = gr.Textbox(spec.stride, label="stride")
        padding = gr.Textbox(spec.padding, label="padding (number, 'valid' or 'same')")
        dilation = gr.Textbox(spec.dilation, label="dilation")
        groups = gr.Number(spec.groups, label="groups", **WHOLE)
        transposed = gr.Checkbox(spec.transposed, label="transposed convolution")
        output_padding = gr.Textbox(spec.output_padding, label="output padding (transposed only)")
    fields = [sizes, channels, filters, kernel, stride, padding, dilation, groups, transposed, output_padding,
              filter_channels]
    button = gr.Button("Compute the output shape", variant="primary")
    report = gr.Markdown(describe(spec.validate()))  # arithmetic and a tiny torch layer: milliseconds
    gr.Markdown(LIMITS, elem_classes="conv-limits")
    links.copy_link(TAB).wire(links.conv_link, fields)
    links.on_load(TAB, linked_layer, [*fields, report])
    texts = [field.submit for field in fields if isinstance(field, (gr.Textbox, gr.Number))]
    computed = gr.on([button.click, transposed.input, *texts], layer_report, fields, report, api_name="conv_layer",
                     api_description="One convolution layer (1D/2D/3D, or transposed), with every field of the app's "
                                     "form: its output shape in both notations, the size formula per dimension, "
                                     "weights, parameters, multiply-adds and the torch check. Sizes and per-dimension "
                                     "values are text such as '14×14×14' or '5'. Use it for grouped or transposed "
                                     "convolutions or a given number of channels per filter; conv_output_shape answers "
                                     "a plain one with fewer arguments.")
    computed.failure(lambda: NO_REPORT, None, report, api_visibility="private", queue=False)  # not the old layer's
    presets.input(preset_form, presets, fields, api_visibility="private", queue=False).success(
        layer_report, fields, report, api_visibility="private")


def _stack_section(tab: gr.Tab, parts: gr.Tabs) -> None:
    gr.Markdown("### Stacks: layers one after another\nLayers: conv, max pool, avg pool (a pool's stride defaults to "
                "its kernel). Receptive field r and jump j per layer: r ← r + d·(k − 1)·j, j ← j·s. A layer whose "
                "kernel does not fit has an empty output, and the stack ends there.")
    with gr.Row():
        sizes = gr.Textbox(STACK_INPUT[0], label="input sizes")
        channels = gr.Number(STACK_INPUT[1], label="input channels", **WHOLE)
    rows = gr.Dataframe(STACK_EXAMPLE, headers=list(STACK_COLUMNS), type="array", datatype="str", interactive=True,
                        column_count=len(STACK_COLUMNS), label="layers (edit, add or blank out rows)")
    button = gr.Button("Compute the stack", variant="primary")
    result = gr.Dataframe(headers=list(STACK_HEADERS), interactive=False, wrap=True, label="after each layer",
                          elem_id="conv-stack-result", column_widths=STACK_WIDTHS)
    text = gr.Markdown()
    links.copy_link(TAB, "stacks").wire(links.stack_link, [sizes, channels, rows])
    links.on_load(TAB, linked_stack, [sizes, channels, rows, result, text, parts])
    computed = gr.on([button.click, sizes.submit, channels.submit], stack_report, [sizes, channels, rows],
                     [result, text], api_name="conv_stack",
                     api_description="A stack of conv / max pool / avg pool layers: shape, weights, parameters, "
                                     "multiply-adds, receptive field and jump after each layer, and a summary. Use it "
                                     "for several layers in a row; for one layer use conv_output_shape, for VGG19's "
                                     "layers receptive_field.")
    computed.failure(lambda: (None, NO_REPORT), None, [result, text], api_visibility="private", queue=False)
    tab.select(stack_report, [sizes, channels, rows], [result, text], api_visibility="private")


def _see_it_section(nd: int, tab: gr.Tab, parts: gr.Tabs) -> None:
    opens = links.see_defaults(nd)  # the view as it opens, as its links read it
    with gr.Row():
        sample = gr.Dropdown(list(SAMPLES[nd]), value=opens["input"], label="input")
        filter_name = gr.Dropdown(filter_names(nd), value=opens["filter"], label="filter")
        size = gr.Slider(*SEE_SIZES, value=opens["F"], step=1, label="filter size F")
    with gr.Row():
        position = [gr.Slider(0, n - 1, value=index, step=1, label=f"output cell: {name} index")
                    for n, index, name in zip(SAMPLE_EXTENT[nd], opens["cell"], DIM_NAMES[nd])]
    controls = [sample, filter_name, size, *position]
    gr.Markdown(SEE_IT_3D if nd == 3 else "The filter at the chosen output cell; orange: the input cells that make "
                "it.")
    plot = gr.Plot(show_label=False, elem_id=f"conv-see-it-{nd}d")
    links.copy_link(TAB, f"see_{nd}d").wire(functools.partial(links.see_link, nd), controls)
    # the cells first: a change of the input or F sets the cells' sliders from the cells' values at that moment
    links.on_load(TAB, functools.partial(linked_see_it, nd), [*position, sample, filter_name, size, plot, parts])
    gr.on([tab.select, sample.change, size.change], output_cells, controls, position, concurrency_limit=None,
          show_progress="hidden", api_visibility="private")
    gr.on([tab.select, *(control.change for control in controls)], see_it_view, controls, plot,
          trigger_mode="always_last", show_progress="minimal", api_visibility="private")


def output_cells(sample, filter_name, size, *position) -> list:
    """The output cell sliders for the sample and the filter size F: 0 … N − F in each dimension, as the output has
    N − F + 1 cells; a cell past the new end moves to it, the others keep their value (which a link may be setting
    at the same moment). A size being typed, not yet whole: the sliders as they are."""
    try:
        F = int(size)
    except (TypeError, ValueError):
        updates = [gr.skip()] * len(position)
    else:
        ends = [max(0, n - F) for n in load_sample(sample).shape]
        updates = [gr.update(maximum=end, **({"value": end} if int(p or 0) > end else {}))
                   for end, p in zip(ends, position)]
    return updates if len(updates) > 1 else updates[0]  # one slider (1D): its update itself


def build() -> None:
    """Create the playground's widgets inside the current Blocks / Tab."""
    gr.Markdown(INTRO)
    with gr.Tabs() as parts:
        with gr.Tab("One layer", id="layer"):
            _layer_section()
        with gr.Tab("Stacks", id="stacks") as tab:
            _stack_section(tab, parts)
        for nd in (1, 2, 3):
            with gr.Tab(f"See it work: {nd}D", id=f"see_{nd}d") as tab:
                _see_it_section(nd, tab, parts)

"""The 1D / 2D / 3D convolution playground tab: one layer's shapes (formula and real torch layer), stacks of layers
with their receptive field, and convolutions to watch on a heartbeat, a photo and a volume."""
from __future__ import annotations

import functools

import gradio as gr

from explorer.convs import shapes as conv_shapes, visuals as conv_visuals

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


def teaching_errors(fn):
    """Show the core's ValueError (a teaching sentence) as a gr.Error in the page instead of a traceback."""
    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except ValueError as error:
            raise gr.Error(str(error)) from None
    return wrapper


@teaching_errors
def layer_report(sizes, channels, filters, kernel, stride, padding, dilation, groups, transposed, output_padding,
                 filter_channels) -> str:
    """The Markdown account of one layer, from the form's values."""
    size = conv_shapes.parse_size
    conv = conv_shapes.make_conv(conv_shapes.input_shape_from(channels, sizes), filters, size(kernel), size(stride),
                                 size(padding), size(dilation), groups, transposed, size(output_padding),
                                 size(filter_channels))
    return conv_shapes.describe(conv)


def preset_form(name: str) -> list:
    """The form's values for a preset of the seeds' examples."""
    a = conv_shapes.preset_arguments(name)
    channels, *sizes = a["input_shape"]
    return ["×".join(map(str, sizes)), channels, a["out_channels"], str(a["kernel_size"]), str(a["stride"]),
            str(a["padding"]), str(a["dilation"]), a["groups"], a["transposed"], str(a["output_padding"]),
            str(a["filter_channels"] or "")]


@teaching_errors
def stack_report(sizes, channels, rows) -> tuple[list[list], str]:
    """The table of shapes, parameters, MACs and receptive fields of the layers typed in, and a summary."""
    layers = conv_shapes.make_stack(conv_shapes.input_shape_from(channels, sizes), rows)
    return conv_shapes.stack_table(layers), conv_shapes.describe_stack(layers)


@teaching_errors
def see_it_view(sample, filter_name, size, *position):
    """The figure of the 'see it work' view (its title gives the highlighted output cell as a sum)."""
    return conv_visuals.see_it(sample, filter_name, size, position)[0]


def _layer_section() -> None:
    presets = gr.Dropdown(list(conv_shapes.PRESETS), label="the course's examples", value=None)
    with gr.Row():
        sizes = gr.Textbox("14×14×14", label="input sizes (1, 2 or 3 numbers)")
        channels = gr.Number(3, label="input channels", precision=0)
        filters = gr.Number(16, label="number of filters", precision=0)
        kernel = gr.Textbox("5", label="kernel size (one number or one per dimension)")
        filter_channels = gr.Textbox("3", label="channels of each filter (blank: as needed)")
    with gr.Row():
        stride = gr.Textbox("1", label="stride")
        padding = gr.Textbox("0", label="padding (number, 'valid' or 'same')")
        dilation = gr.Textbox("1", label="dilation")
        groups = gr.Number(1, label="groups", precision=0)
        transposed = gr.Checkbox(False, label="transposed convolution")
        output_padding = gr.Textbox("0", label="output padding (transposed only)")
    fields = [sizes, channels, filters, kernel, stride, padding, dilation, groups, transposed, output_padding,
              filter_channels]
    button = gr.Button("Compute the output shape", variant="primary")
    report = gr.Markdown(layer_report(*(field.value for field in fields)))
    texts = [field.submit for field in fields if isinstance(field, (gr.Textbox, gr.Number))]
    gr.on([button.click, transposed.input, *texts], layer_report, fields, report)
    presets.input(preset_form, presets, fields).then(layer_report, fields, report)


def _stack_section() -> None:
    gr.Markdown("### Stacks: layers one after another\nLayers: conv, max pool, avg pool (a pool's stride defaults to "
                "its kernel). Receptive field r and jump j per layer: r ← r + d·(k − 1)·j, j ← j·s.")
    with gr.Row():
        sizes = gr.Textbox("32×32", label="input sizes")
        channels = gr.Number(3, label="input channels", precision=0)
    rows = gr.Dataframe(conv_shapes.STACK_EXAMPLE, headers=list(conv_shapes.STACK_COLUMNS), type="array",
                        datatype="str", interactive=True, column_count=len(conv_shapes.STACK_COLUMNS),
                        label="layers (edit, add or blank out rows)")
    button = gr.Button("Compute the stack", variant="primary")
    table, summary = stack_report(sizes.value, channels.value, conv_shapes.STACK_EXAMPLE)
    result = gr.Dataframe(table, headers=list(conv_shapes.STACK_HEADERS), interactive=False, label="after each layer")
    text = gr.Markdown(summary)
    gr.on([button.click, sizes.submit, channels.submit], stack_report, [sizes, channels, rows], [result, text])


def _see_it_section(nd: int) -> None:
    samples = list(conv_visuals.SAMPLES[nd])
    with gr.Row():
        sample = gr.Dropdown(samples, value=samples[0], label="input")
        filter_name = gr.Dropdown(conv_visuals.filter_names(nd), value=conv_visuals.filter_names(nd)[-1],
                                  label="filter")
        size = gr.Slider(1, 15, value=9 if nd == 1 else 5, step=1, label="filter size F")
    extent = conv_visuals.sample_extent(nd)
    with gr.Row():
        position = [gr.Slider(0, n - 1, value=n // 2, step=1, label=f"output cell: {name} index")
                    for n, name in zip(extent, conv_shapes.DIM_NAMES[nd])]
    controls = [sample, filter_name, size, *position]
    gr.Markdown("The filter at the chosen output cell; orange: the input cells that make it.")
    plot = gr.Plot(see_it_view(*(control.value for control in controls)), show_label=False)
    gr.on([control.change for control in controls], see_it_view, controls, plot, trigger_mode="always_last",
          show_progress="minimal")


def build() -> None:
    """Create the playground's widgets inside the current Blocks / Tab."""
    gr.Markdown(INTRO)
    with gr.Tab("One layer"):
        _layer_section()
    with gr.Tab("Stacks"):
        _stack_section()
    for nd in (1, 2, 3):
        with gr.Tab(f"See it work: {nd}D"):
            _see_it_section(nd)

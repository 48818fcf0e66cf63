"""The Gradio app: one Blocks page, one tab per module, and the agent tools of ``tools``. ``nst-studio`` (or
``python app.py``) serves it on port 7860, with MCP at ``/gradio_api/mcp/``."""
import importlib
import os

import gradio as gr

from .tools import register as register_tools
from .errors import guard_inputs
from .file_inputs import guard_file_inputs
from .links import open_on_load, tab_id
from .mcp_arguments import name_mcp_arguments
from .mcp_results import tidy_mcp_results
from .images import TRIM_EVERY_S, trim_app_files, trim_app_files_every
from .served import write_cache_atomically

# (tab title, module with a ``build()`` that creates the tab's widgets inside the current Blocks)
TABS = [
    ("Stylize", "nst_studio.stylize_tab"),
    ("Video", "nst_studio.video_tab"),
    ("Layer-depth lab", "nst_studio.layer_lab_tab"),
    ("Convolutions 1D/2D/3D", "nst_studio.conv_tab"),
    ("Unit explorer", "nst_studio.explorer_tab"),
]
MAX_UPLOAD = "10mb"  # larger uploads are refused before they reach any handler
STYLE = os.path.join(os.path.dirname(__file__), "style.css")  # the page's CSS, one block per tab


def build_app() -> gr.Blocks:
    write_cache_atomically()  # a picture is never served while half-written
    # delete_cache: every hour, drop cached previews and uploads older than an hour
    with gr.Blocks(title="Neural Style Transfer Studio", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# Neural Style Transfer Studio")
        link_status = gr.HTML(visible=False, elem_id="link-status")  # what a link's address left out
        register_tools()  # first, so that its functions keep their own names as MCP tools
        with gr.Tabs() as tabs:
            for title, module in TABS:
                with gr.Tab(title, id=tab_id(module)):
                    importlib.import_module(module).build()
        open_on_load(tabs, link_status, tuple(tab_id(module) for _, module in TABS))
    guard_inputs(demo)
    guard_file_inputs()
    name_mcp_arguments()
    tidy_mcp_results()
    return demo


def main():
    """Serve the app on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT (default 0.0.0.0:7860), and its named endpoints as
    MCP tools at /gradio_api/mcp/ (streamable HTTP); its files stay within NST_CACHE_LIMIT."""
    trim_app_files()  # also checks NST_CACHE_LIMIT before serving
    trim_app_files_every(TRIM_EVERY_S)
    build_app().queue(default_concurrency_limit=1, max_size=16).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_UPLOAD,
        mcp_server=True,
        css_paths=[STYLE],
    )


if __name__ == "__main__":
    main()

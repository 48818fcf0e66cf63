"""The app wraps four names inside Gradio and the mcp package to word their refusals as one sentence
(nst_studio/errors.py, file_inputs.py, mcp_arguments.py). These tests fail when an upgrade renames, moves or
reshapes one of them, or stops calling it the way the wrapper expects, instead of the wrapper silently doing nothing.
"""
import inspect

import gradio as gr
from gradio import blocks, mcp as gradio_mcp, processing_utils
from mcp.server.lowlevel import server as lowlevel

from nst_studio.app import build_app


def parameters(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


def test_gradio_moves_input_files_through_the_module_function_the_app_wraps():
    move = processing_utils.async_move_files_to_cache
    assert inspect.iscoroutinefunction(move)
    assert parameters(move)[:3] == ["data", "block", "postprocess"]
    # looked up on the module at each call, so the wrapper installed there is the one called
    assert "processing_utils.async_move_files_to_cache(" in inspect.getsource(blocks)


def test_gradio_s_mcp_server_converts_file_arguments_in_the_method_the_app_wraps():
    convert = gradio_mcp.GradioMCPServer.convert_strings_to_filedata
    assert parameters(convert)[:3] == ["self", "value", "filedata_positions"]
    assert "self.convert_strings_to_filedata(" in inspect.getsource(gradio_mcp)


def test_the_mcp_server_checks_arguments_with_the_jsonschema_name_the_app_replaces():
    assert hasattr(lowlevel, "jsonschema")
    assert "jsonschema.validate(" in inspect.getsource(lowlevel)
    assert parameters(lowlevel.jsonschema.validate)[:2] == ["instance", "schema"]


def test_input_components_check_payloads_where_the_app_wraps_them():
    for component in (gr.Slider, gr.Number, gr.Dropdown, gr.Radio, gr.Checkbox, gr.Image):
        assert parameters(component.preprocess)[:2] == ["self", "payload"], component
    assert hasattr(gr.Image(), "data_model") and hasattr(gr.Image().data_model, "model_validate")


def test_building_the_app_installs_every_wrapper():
    demo = build_app()
    assert getattr(processing_utils.async_move_files_to_cache, "named", False)
    assert getattr(gradio_mcp.GradioMCPServer.convert_strings_to_filedata, "named", False)
    assert type(lowlevel.jsonschema).__name__ == "NamedSchema"
    sliders = [b for b in demo.blocks.values() if isinstance(b, gr.Slider)]
    images = [b for b in demo.blocks.values() if isinstance(b, gr.Image) and b.interactive is not False]
    assert sliders and all(b.preprocess.__name__ == "checked" for b in sliders)
    assert images and all(getattr(b.preprocess, "named", False) for b in images)
    assert getattr(gr.Blocks.validate_inputs, "named", False)  # a call short of inputs: named, in order
    assert getattr(gradio_mcp.GradioMCPServer.get_input_schema, "tidy", False)
    assert getattr(gradio_mcp.GradioMCPServer.postprocess_output_data, "tidy", False)

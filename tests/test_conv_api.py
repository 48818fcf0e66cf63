"""The playground's endpoints (/conv_layer, /conv_stack) of a real ``python app.py``, called through gradio_client
with hostile values: each answer is one sentence naming the field, its range and the value received, never a class
name, a server path or a traceback, and the server keeps serving."""
import json
import re
import urllib.request

import httpx
import pytest
from gradio_client import Client

from app_server import serve_app
from explorer.convs.stacks import STACK_COLUMNS

B = r"(?:1,?000,?000,?000|1e\+09)"  # the range's end, as the shared checks write it
LEAKS = re.compile(r"Traceback|Error\b|Exception|File \"|/work/|site-packages|\.py\b")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "app.log"
    with serve_app(str(log)) as running:
        yield running, Client(running.url, verbose=False), log


def refusal(client, api_name, *args, **kwargs) -> str:
    with pytest.raises(Exception) as caught:
        client.predict(*args, api_name=api_name, **kwargs)
    message = str(caught.value)
    assert not LEAKS.search(message), message
    return message


@pytest.mark.parametrize("field, value, expected", [
    ("channels", 2**70, r"channels must be a whole number from 1 to {B}; got 1180591620717411303424\."),
    ("channels", "three", r"input channels must be a whole number from 1 to {B}; got 'three'\."),
    ("channels", 2.5, r"channels must be a whole number from 1 to {B}; got 2\.5\."),
    ("filters", -3, r"filters must be a whole number from 1 to {B}; got -3\."),
    ("groups", 0, r"groups must be a whole number from 1 to {B}; got 0\."),
    ("sizes", "14×-2×14", r"the input size must be a whole number from 1 to {B}; got -2\."),
    ("kernel", "inf", r"the kernel size must be a whole number from 1 to {B}; got 'inf'\."),
    ("kernel", "1e30", r"the kernel size must be a whole number from 1 to {B}; got '1e30'\."),
    ("stride", "0", r"the stride must be a whole number from 1 to {B}; got 0\."),
    ("padding", "-1", r"the padding must be a whole number from 0 to {B}; got -1\."),
    ("dilation", "nan", r"the dilation must be a whole number from 1 to {B}; got 'nan'\."),
    ("output_padding", str(2**70), r"the output padding must be a whole number from 0 to {B}; got 1180"),
])
def test_conv_layer_names_the_bad_field_its_range_and_the_value(server, field, value, expected):
    _, client, _ = server
    message = refusal(client, "/conv_layer", **{field: value})
    assert re.search(expected.replace("{B}", B), message), message


def test_conv_layer_answers_absurd_sizes(server):
    _, client, _ = server
    empty = client.predict(kernel="99", api_name="/conv_layer")
    assert "**Empty output.** The kernel (99) is larger than the padded input (14 + 2·0 = 14)" in empty
    huge = client.predict(sizes="1000000000×1000000000×1000000000", channels=10**6, filters=10**6,
                          filter_channels="", api_name="/conv_layer")
    assert "(1000000, 999999996, 999999996, 999999996)" in huge and "formula alone answers" in huge


def test_conv_stack_names_the_layer_and_the_field(server):
    _, client, _ = server
    rows = {"headers": list(STACK_COLUMNS), "data": [["conv", "16", "3", "", "", ""], ["conv", "inf", "3", "", "", ""]]}
    message = refusal(client, "/conv_stack", "32×32", 3, rows)
    assert re.search(r"layer 2 \(conv\): the number of filters must be a whole number from 1 to .*; got 'inf'\.",
                     message), message
    table, summary = client.predict("32×32", 3, {"headers": list(STACK_COLUMNS), "data": [["conv", "4", "99"]]},
                                    api_name="/conv_stack")
    assert table["data"][0][1] == "0×0×4" and "Layer 1's output is empty." in summary


def test_infinity_in_a_number_box_is_named(server):
    """JSON has no inf, but the server's parser takes ``Infinity``: a raw HTTP call, as a hostile client would."""
    running, _, _ = server
    body = '{"data": ["14×14×14", Infinity, 16, "5", "1", "0", "1", 1, false, "0", ""]}'
    event = httpx.post(f"{running.url}gradio_api/call/conv_layer", content=body,
                       headers={"Content-Type": "application/json"}, timeout=30).json()["event_id"]
    stream = httpx.get(f"{running.url}gradio_api/call/conv_layer/{event}", timeout=60).text
    assert "event: error" in stream
    message = json.loads(stream.split("event: error\ndata: ", 1)[1].splitlines()[0])["error"]
    assert re.fullmatch(r"input channels must be a whole number from 1 to {B}; got inf\.".replace("{B}", B),
                        message), message


def test_ui_only_handlers_are_not_endpoints_and_named_ones_are_described(server):
    _, client, _ = server
    api = client.view_api(return_format="dict", print_info=False)
    named = api["named_endpoints"]
    assert {"/conv_layer", "/conv_stack"} <= set(named)
    assert not any(name.startswith(("/preset_form", "/see_it_view", "/stack_report", "/layer_report"))
                   for name in named) and not api["unnamed_endpoints"]
    assert all(named[name]["description"] for name in ("/conv_layer", "/conv_stack"))


def test_after_all_that_the_server_answers_and_logged_no_traceback(server):
    running, _, log = server
    with urllib.request.urlopen(running.url, timeout=30) as response:
        assert response.status == 200
    assert "Traceback" not in log.read_text()

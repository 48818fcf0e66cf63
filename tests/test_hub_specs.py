"""Hub specs that can't be a dataset are one sentence each, before any network; an unreachable Hub is said within
the stated timeout (NST_HUB_TIMEOUT), even when the connection hangs."""
import socket
import time

import pytest

from explorer.units import hub
from explorer.units.datasets import DatasetError, open_dataset
from nst_core.checks import InputError
from units_helpers import write_random_images

SAID = "write a Hub dataset as hf:OWNER/NAME, hf:OWNER/NAME:SPLIT or hf:OWNER/NAME:SPLIT:COLUMN"


@pytest.mark.parametrize("spec, message", [
    ("hf:", f"'hf:': {SAID}"),
    ("hf:/", f"'hf:/': {SAID}"),  # the file system's root is no dataset
    ("hf:owner/name/extra", f"'hf:owner/name/extra': {SAID}"),
    ("hf:owner/name:::", f"'hf:owner/name:::': {SAID}"),
    ("hf:../../x", f"'hf:../../x': {SAID}"),
    ("hf:owner/../x", f"'hf:owner/../x': {SAID}"),
    ("hf:/etc/passwd", f"'hf:/etc/passwd': {SAID}"),  # a file, not a folder
    ("hf:owner/name:tr ain", f"'hf:owner/name:tr ain': {SAID}"),
    ("hf:" + "a/" * 3000, None),
])
def test_a_spec_that_cannot_be_a_dataset_is_one_sentence_without_network(spec, message, monkeypatch):
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("the network was tried"))
    with pytest.raises(DatasetError) as info:
        open_dataset(spec, "/nonexistent-store")
    text = str(info.value)
    assert "\n" not in text and len(text) < 200 and (message is None or text == message), text


@pytest.fixture
def hanging_network(monkeypatch):
    """A connection that never answers (a Hub behind a black hole)."""
    def hang(*args, **kwargs):
        time.sleep(30)
        raise OSError("timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    monkeypatch.setenv(hub.TIMEOUT_ENV, "0.5")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)


@pytest.mark.parametrize("spec", ["hf:someone/photos:validation", "hf:owner"])  # hf:NAME: a dataset with no owner
def test_an_unreachable_hub_is_said_within_the_timeout(hanging_network, spec):
    start = time.monotonic()
    with pytest.raises(DatasetError) as info:
        open_dataset(spec, "/nonexistent-store")
    assert time.monotonic() - start < 3  # the datasets import aside, the wait is the 0.5 s timeout
    name = spec.split(":")[1]
    assert str(info.value) == (f"hf:{name}: the Hugging Face Hub could not be reached; check the internet "
                               "connection, or scan a folder or zip instead")


def test_the_timeout_is_checked_where_it_enters(monkeypatch):
    monkeypatch.setenv(hub.TIMEOUT_ENV, "soon")
    with pytest.raises(InputError, match=r"NST_HUB_TIMEOUT must be a number from 0\.1 to 120; got 'soon'\."):
        open_dataset("hf:someone/photos", "/nonexistent-store")


@pytest.mark.parametrize("suffix, message", [
    (":test", "no split 'test'"),
    (":train:nothing", "the split has no image column 'nothing' (image columns: image)"),
])
def test_a_split_or_column_that_does_not_exist_is_one_sentence(tmp_path, suffix, message):
    write_random_images(tmp_path / "photos", 2)
    with pytest.raises(DatasetError) as info:
        open_dataset(f"hf:{tmp_path / 'photos'}{suffix}", tmp_path / "store")
    assert message in str(info.value) and "\n" not in str(info.value)

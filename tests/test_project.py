"""Project hygiene the README promises: CI runs the README's test command, no torchvision, pinned torch."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def readme_commands():
    block = re.search(r"```bash\n(.*?)```", read("README.md"), re.S).group(1)
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_ci_installs_from_scratch_and_runs_the_readme_test_command():
    install_app, install_test = readme_commands()
    assert install_app.endswith("python app.py")
    test_command = install_test.split("&&")[-1].strip()
    assert test_command == "python -m pytest -q"
    ci = read(".ci/run")
    assert "apt-get install -y chromium" in ci and "pip install -r requirements-dev.txt" in ci
    assert ci.strip().splitlines()[-1] == test_command
    assert os.access(os.path.join(ROOT, ".ci/run"), os.X_OK)


def test_torch_pinned_and_no_torchvision_anywhere():
    assert "torch==2.13.0" in read("requirements.txt").splitlines()
    for folder, _, files in os.walk(ROOT):
        if any(part in folder for part in (".venv", ".git", "__pycache__")):
            continue
        for name in files:
            if name.endswith((".py", ".txt")) and name != "test_project.py":
                text = read(os.path.relpath(os.path.join(folder, name), ROOT))
                assert not re.search(r"^\s*(import|from)\s+torchvision", text, re.M), name
                assert "torchvision" not in text or not name.startswith("requirements"), name


def test_readme_front_matter_pins_the_gradio_version():
    sdk = re.search(r"^sdk_version: (\S+)$", read("README.md"), re.M).group(1)
    assert f"gradio[mcp]=={sdk}" in read("requirements.txt").splitlines()

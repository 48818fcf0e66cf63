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
    steps = [step.strip() for step in install_test.split("&&")]
    assert steps[-1] == "python -m pytest -q"
    # a fresh machine's apt has empty package lists: the update must come before the install
    assert steps.index("apt-get update") < steps.index("apt-get install -y chromium")
    ci = [line.strip() for line in read(".ci/run").splitlines()]
    commands = [line for line in ci if line and not line.startswith(("#", "set ", "cd ", "export "))]
    assert commands == steps  # CI runs exactly the README's test command, one step per line
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

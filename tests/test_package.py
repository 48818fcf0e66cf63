"""The installable package: pyproject takes its dependencies from requirements.txt, installs every package and the
files they read, and its three commands start the right functions (scripts/check_install.py does the real install)."""
import os
import subprocess
import tomllib
from fnmatch import fnmatch
from importlib import import_module

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("nst_core", "explorer", "nst_studio")


def pyproject() -> dict:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def source_files(package: str):
    """(folder, file name) of every file git would ship under ``package`` (tracked or new, not ignored)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", package], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [os.path.split(name) for name in listed if os.path.exists(os.path.join(ROOT, name))]


def test_dependencies_are_requirements_txt():
    project, setuptools = pyproject()["project"], pyproject()["tool"]["setuptools"]
    assert "dependencies" not in project and project["dynamic"] == ["dependencies"]
    assert setuptools["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}
    with open(os.path.join(ROOT, "requirements.txt")) as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    assert "torch==2.13.0" in lines and not any(line.startswith("-") for line in lines)  # setuptools reads no options


def test_every_package_folder_and_data_file_is_installed():
    patterns = pyproject()["tool"]["setuptools"]["package-data"]["*"]
    for package in PACKAGES:
        files = source_files(package)
        assert files, package
        for folder in {folder for folder, name in files if name.endswith(".py")}:
            assert os.path.exists(os.path.join(ROOT, folder, "__init__.py")), f"{folder} would not be installed"
        for folder, name in files:
            if not name.endswith(".py"):
                assert any(fnmatch(name, p) for p in patterns), f"{folder}/{name} would not be installed"


@pytest.mark.parametrize("command", ["nst", "nst-explorer"])
def test_command_prints_usage(command, capsys):
    module, function = pyproject()["project"]["scripts"][command].split(":")
    with pytest.raises(SystemExit) as exit_:
        getattr(import_module(module), function)(["--help"])
    assert exit_.value.code == 0 and "usage:" in capsys.readouterr().out


def test_nst_studio_serves_mcp_on_the_environment_address(monkeypatch):
    assert pyproject()["project"]["scripts"]["nst-studio"] == "nst_studio.app:main"
    app = import_module("nst_studio.app")
    launched = {}

    class Blocks:
        def queue(self, **_):
            return self

        def launch(self, **kwargs):
            launched.update(kwargs)

    monkeypatch.setattr(app, "build_app", Blocks)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "127.0.0.9")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    app.main()
    assert launched["server_name"] == "127.0.0.9" and launched["server_port"] == 7999
    assert launched["mcp_server"] is True


def test_no_module_reads_the_repository_root():
    """Installed, the packages sit in site-packages: a path built from ``__file__`` may only reach the package."""
    for package in PACKAGES:
        for folder, name in source_files(package):
            if name.endswith(".py"):
                with open(os.path.join(ROOT, folder, name), encoding="utf-8") as f:
                    text = f.read()
                assert "dirname(os.path.dirname(" not in text and ".parent.parent" not in text, f"{folder}/{name}"

"""Ray is an extra: a Space's ``pip install -r requirements.txt`` leaves it out, the app builds without it, and
``--engine ray`` without it is one sentence saying how to install it (exit status 2)."""
import os
import subprocess
import sys
import tomllib

from units_helpers import write_random_images

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WITHOUT_RAY = "import sys; sys.modules['ray'] = None; "  # ``import ray`` then fails as if Ray were not installed


def lines(name: str) -> list[str]:
    with open(os.path.join(ROOT, name)) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def test_ray_is_an_extra_that_the_tests_still_install():
    assert not [line for line in lines("requirements.txt") if line.lower().startswith("ray")]
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        extra = tomllib.load(f)["project"]["optional-dependencies"]["ray"]
    assert extra == ["ray[data]==2.60.0"] and extra[0] in lines("requirements-dev.txt")


def test_scan_with_the_ray_engine_and_no_ray_says_how_to_install_it(tmp_path):
    write_random_images(tmp_path / "data", 1)
    run = subprocess.run([sys.executable, "-c", WITHOUT_RAY + "from explorer.__main__ import main; sys.exit(main())",
                          "scan", str(tmp_path / "data"), "--engine", "ray", "--out", str(tmp_path / "i.pt")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        'explorer: error: --engine ray needs Ray, which is not installed: pip install "nst-studio[ray]" (from a '
        'clone: pip install ".[ray]" or pip install -r requirements-dev.txt), or use --engine local.']
    assert not (tmp_path / "i.pt").exists()


def test_the_app_builds_without_ray():
    run = subprocess.run([sys.executable, "-c", WITHOUT_RAY + "from nst_studio.app import build_app; build_app(); "
                          "print('built', 'ray' in sys.modules and sys.modules['ray'] is not None)"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip().endswith("built False"), run.stderr[-2000:]

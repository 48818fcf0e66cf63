"""ZeroGPU: heavy handlers run under ``spaces.GPU`` when the ``spaces`` package is present, unchanged without it."""
import functools
import importlib
import os
import subprocess
import sys
import textwrap
import types

import nst_studio.gpu as gpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A stand-in for the ``spaces`` package: GPU(duration=...) wraps a function and records the duration it asked for.
FAKE_SPACES = textwrap.dedent("""
    import functools

    def GPU(duration=60):
        def wrap(fn):
            @functools.wraps(fn)
            def on_gpu(*args, **kwargs):
                return fn(*args, **kwargs)
            on_gpu.gpu_duration = duration
            return on_gpu
        return wrap
""")


def test_without_spaces_the_handler_is_itself():
    assert gpu.spaces is None  # the test environment has no ``spaces`` package

    def handler(x):
        return x + 1

    assert gpu.on_gpu(handler) is handler


def test_with_spaces_the_handler_runs_under_spaces_gpu(monkeypatch):
    fake = types.ModuleType("spaces")
    exec(FAKE_SPACES, fake.__dict__)
    monkeypatch.setitem(sys.modules, "spaces", fake)
    try:
        with_spaces = importlib.reload(gpu)

        def handler(x):
            """Adds one."""
            return x + 1

        wrapped = with_spaces.on_gpu(handler)
        assert wrapped is not handler and wrapped.__wrapped__ is handler
        assert wrapped.gpu_duration == with_spaces.GPU_SECONDS > 30
        assert wrapped(1) == 2 and wrapped.__doc__ == "Adds one."
    finally:
        monkeypatch.delitem(sys.modules, "spaces")
        importlib.reload(gpu)
    assert gpu.spaces is None


def test_the_apps_heavy_handlers_are_wrapped_when_spaces_is_installed(tmp_path):
    (tmp_path / "spaces.py").write_text(FAKE_SPACES)
    probe = textwrap.dedent("""
        import inspect
        from nst_studio import explorer_tab, layer_lab_tab, stylize_tab, tools
        heavy = [stylize_tab.stylize, layer_lab_tab.run_lab, explorer_tab.show_page, explorer_tab.show_unit,
                 explorer_tab.visualize_unit, explorer_tab.probe_photo, explorer_tab.probe_unit, tools.stylize,
                 tools.top_patches, tools.probe_photo]
        light = [stylize_tab.palette_only, tools.conv_output_shape, tools.receptive_field]
        print([hasattr(f, "gpu_duration") for f in heavy], [hasattr(f, "gpu_duration") for f in light])
        print(inspect.isgeneratorfunction(inspect.unwrap(stylize_tab.stylize)), tools.stylize.__name__)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), ROOT])}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == f"{[True] * 10} {[False] * 3}"
    assert lines[-1] == "True stylize"

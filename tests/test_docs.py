"""The README's and docs' code blocks run: every ```bash and ```python block, on tiny inputs.

The convention, for whoever writes a doc:
- Every fenced ```bash and ```python block in README.md and docs/*.md is run. A file's bash blocks run in order
  in one bash script (so ``D=...`` set in one block serves the next), each python block on its own, all in a
  temporary folder that holds tiny inputs under the names the docs use (c.png, s.png, C.png, S.png, cat.png,
  style.jpg), empty ``docs/`` and ``out/`` folders and links to ``scripts/`` and ``benchmarks/``.
- Work is shrunk to tiny sizes before it runs: ``--size N`` becomes ``--size 32`` (64 for ``explorer scan``),
  ``--steps N`` ``--steps 2``, ``--scales N`` ``--scales 1``, and an ``nst_core`` or ``explorer visualize`` command
  without them gets them; ``explorer scan builtin`` scans a folder of two tiny photos instead; in python,
  ``size=N`` becomes ``size=32`` and ``steps=N`` ``steps=2``.
- A block that must not run (it installs packages, starts a server or needs a network) has the line
  ``<!-- shown only: REASON -->`` just before its opening fence. It is still checked: a python block compiles,
  a bash block passes ``bash -n``, and each of this project's command lines in it (``python -m nst_core``,
  ``python -m explorer SUBCOMMAND``, ``python scripts/X.py``, ``python benchmarks/X.py``) answers ``--help``.
- ```json blocks are parsed.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHOWN_ONLY = "<!-- shown only"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
TINY_IMAGES = {"c.png": 0, "s.png": 1, "C.png": 2, "S.png": 3, "cat.png": 4, "style.jpg": 5}


def blocks(path: Path) -> list[tuple[str, str, bool]]:
    """(language, code, shown only) of each fenced block of ``path``, in order."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        found.append((match.group(1), match.group(2), before.startswith(SHOWN_ONLY)))
    return found


def logical_lines(code: str) -> list[str]:
    """Bash lines with their ``\\`` continuations joined and their trailing comments dropped."""
    joined = re.sub(r"\s*\\\n\s*", " ", code)
    return [re.sub(r"\s+#.*$", "", line) for line in joined.splitlines() if line.strip() and
            not line.lstrip().startswith("#")]


def shrunk_bash(line: str) -> str:
    """The command with tiny sizes, steps and scales (see the module docstring)."""
    if re.search(r"-m explorer scan\b", line):
        line = re.sub(r"\bscan builtin\b", 'scan "$NST_DOCS_IMAGES"', line)
        return re.sub(r"--size \d+", "--size 64", line) if "--size" in line else line + " --size 64"
    line = re.sub(r"--size \d+", "--size 32", line)
    line = re.sub(r"--steps \d+", "--steps 2", line)
    line = re.sub(r"--scales \d+", "--scales 1", line)
    runs_work = re.search(r"-m nst_core \S+\.(png|jpg)", line) or re.search(r"-m explorer visualize\b", line)
    if runs_work:
        for flag, value in (("--size", 32), ("--steps", 2), ("--scales", 1)):
            if flag not in line:
                line += f" {flag} {value}"
    return line


def shrunk_python(code: str) -> str:
    """The snippet with size=32 and steps=2."""
    return re.sub(r"\bsteps=\d+", "steps=2", re.sub(r"\bsize=\d+", "size=32", code))


def help_commands(code: str) -> list[list[str]]:
    """``--help`` of each of this project's command lines in ``code``: ``python -m nst_core``, ``python -m explorer
    SUBCOMMAND``, ``python scripts/X.py`` and ``python benchmarks/X.py`` (``python app.py`` starts the server)."""
    pattern = r"\bpython3? (-m nst_core|-m explorer [a-z]+|(?:scripts|benchmarks)/\w+\.py)"
    return [[sys.executable, *match.group(1).split(), "--help"] for match in re.finditer(pattern, code)]


@pytest.fixture
def workdir(tmp_path: Path) -> tuple[Path, dict]:
    """A folder with the docs' input names as tiny pictures, a tiny photo folder, and the environment to run in."""
    rng = np.random.default_rng(0)
    for name, seed in TINY_IMAGES.items():
        pixels = np.random.default_rng(seed).integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / name)
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(photos / f"photo{i}.png")
    (tmp_path / "docs").mkdir()
    (tmp_path / "out").mkdir()
    for folder in ("scripts", "benchmarks"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python"  # a script, not a link: a link would lose the virtual environment
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    shim.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(ROOT),
               NST_DOCS_IMAGES=str(photos), NST_EXPLORER_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="2")
    return tmp_path, env


def run(command: list[str], cwd: Path, env: dict, what: str) -> None:
    """Run ``command``; fail with its stderr's end if it exits non-zero."""
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{what} failed:\n{' '.join(command)[:2000]}\n{result.stderr[-3000:]}"


def test_readme_is_short_starts_with_the_two_commands_and_shows_three_small_pictures():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    language, code, _ = blocks(ROOT / "README.md")[0]
    assert language == "bash" and code.splitlines()[0].split("#")[0].strip().endswith("python app.py")
    pictures = re.findall(r"!\[[^\]]+\]\((docs/[\w.-]+\.png)\)", text)
    assert len(pictures) == 3
    for picture in pictures:
        assert (ROOT / picture).stat().st_size <= 300_000, picture
        assert f"-o {picture}" in text, f"no command in the README makes {picture}"
    for name in ("engine", "app", "explorer", "convolutions", "performance", "reliability"):
        assert f"(docs/{name}.md" in text and (ROOT / "docs" / f"{name}.md").exists()


def test_the_docs_have_blocks_and_every_shown_only_block_says_why():
    found = {path.name: blocks(path) for path in DOCS}
    assert sum(len(b) for b in found.values()) >= 10
    for path in DOCS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(SHOWN_ONLY):
                assert re.fullmatch(r"<!-- shown only: .+ -->", line), f"{path.name}: {line!r} gives no reason"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_code_blocks_run(path: Path, workdir):
    cwd, env = workdir
    script = ["set -euo pipefail"]
    for language, code, shown_only in blocks(path):
        if language == "json":
            json.loads(code)
        elif language == "python" and shown_only:
            compile(code, f"{path.name} (shown only)", "exec")
        elif language == "python":
            run([sys.executable, "-c", shrunk_python(code)], cwd, env, f"a python block of {path.name}")
        elif language == "bash" and shown_only:
            run(["bash", "-n", "-c", code], cwd, env, f"bash -n of a block of {path.name}")
            for command in help_commands(code):
                run(command, cwd, env, f"--help of a shown-only command in {path.name}")
        elif language == "bash":
            script += [shrunk_bash(line) for line in logical_lines(code)]
    if len(script) > 1:
        run(["bash", "-c", "\n".join(script)], cwd, env, f"the bash blocks of {path.name}")


def test_shrinking_rewrites_sizes_and_adds_them_where_missing():
    assert shrunk_bash("python -m nst_core $D/a.png $D/b.jpg -o x.png") == (
        "python -m nst_core $D/a.png $D/b.jpg -o x.png --size 32 --steps 2 --scales 1")
    assert shrunk_bash("python -m nst_core a.png b.png --size 512 --steps 12 --scales 4 -o x.png") == (
        "python -m nst_core a.png b.png --size 32 --steps 2 --scales 1 -o x.png")
    assert shrunk_bash("python -m explorer scan builtin --layers all --out zf.pt") == (
        'python -m explorer scan "$NST_DOCS_IMAGES" --layers all --out zf.pt --size 64')
    assert shrunk_bash("python -m nst_core --list-layers") == "python -m nst_core --list-layers"
    assert logical_lines("a \\\n   b  # note\n# only a comment\nc") == ["a b", "c"]
    assert shrunk_python("StyleOptions(size=256, steps=100)") == "StyleOptions(size=32, steps=2)"
    assert help_commands("pip install . && python app.py && python -m explorer scan x && python -m pytest -q") == [
        [sys.executable, "-m", "explorer", "scan", "--help"]]

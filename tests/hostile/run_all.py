"""Hostile input, round two: every case of issue 21 against a running app (``python app.py``: MCP tools, named HTTP
endpoints) and the explorer's command line, as a table of door, input, answer and whether the server is alive.

    python tests/hostile/run_all.py            # every case
    python tests/hostile/run_all.py --quick    # a few cases per door (the CI test, tests/test_hostile_round2.py)

The app runs with NST_MAX_MEMORY=1G and NST_CACHE_LIMIT=64M, its uploads, results and caches in a temporary folder
that is filled past the bound first. Each answer must be one line with no traceback, exception class name or
server path; the server must answer after every case and its log must hold no traceback; canary files outside the
studio's folders (given as paths and file:// URLs) must never be opened (inotify); a result saved before the hostile
cases must still be served unchanged after them, and the files must be within the disk bound. Exit status 0 when
every check holds, 1 otherwise. URLs to private and loopback addresses point at a local http.server the script
starts (there is no internet here).
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import functools
import http.server
import io
import json
import os
import re
import struct
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for path in (ROOT, os.path.dirname(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

import mcp_client  # noqa: E402
from app_server import free_port, serve_app  # noqa: E402
from explorer.__main__ import main as explorer_main  # noqa: E402
from nst_core.disk import files_under  # noqa: E402

CLASS_NAMES = re.compile(r"\b\w*(Error|Exception)\b|Traceback|File \"")
MB = 2**20
LIMIT = "64M"


@dataclass
class Row:
    door: str
    given: str
    answer: str
    alive: bool
    problem: str = ""  # why the row fails ("" when it holds)


# --- inputs ---------------------------------------------------------------------------------------------------------
def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def zero_pixel_png() -> bytes:
    """A PNG whose header says 0 x 0 pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


class Inotify:
    """Opens of watched files, from Linux's inotify (through libc): the proof that a file was not read."""

    IN_ACCESS, IN_OPEN = 0x1, 0x20

    def __init__(self, paths):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        for path in paths:
            self.libc.inotify_add_watch(self.fd, os.fsencode(path), self.IN_OPEN | self.IN_ACCESS)

    def events(self) -> int:
        """Events since the last call."""
        count = 0
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return count
            while data:
                length = struct.unpack_from("iIII", data)[3]
                data = data[16 + length:]
                count += 1


@contextlib.contextmanager
def local_web(folder: str):
    """A local http.server on 127.0.0.1 serving ``folder``: the private and loopback URLs of the cases."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):  # the table is the output
        QuietHandler.requests.append(self.path)


# --- doors ----------------------------------------------------------------------------------------------------------
def mcp(url: str, tool: str, arguments: dict) -> str:
    result = mcp_client.call_tool(url, tool, arguments)
    text = mcp_client.text_of(result)
    return text if result.isError else "(accepted) " + text


def raw_call(base: str, api: str, data: list) -> str:
    """A raw HTTP call of a named endpoint, as any client may send it (no gradio_client reading files for us)."""
    request = urllib.request.Request(f"{base}gradio_api/call/{api}", data=json.dumps({"data": data}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{base}gradio_api/call/{api}/{event}", timeout=300) as response:
        text = response.read().decode()
    kind = re.findall(r"^event: (\w+)", text, re.M)[-1]
    payload = json.loads(text.strip().splitlines()[-1].removeprefix("data: ") or "null")
    if kind == "error":
        return str((payload or {}).get("error"))
    return "(accepted) " + json.dumps(payload)


def cli(*argv: str, env: dict | None = None) -> str:
    """``python -m explorer ARGV`` in this process: its exit status and stderr."""
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = explorer_main(list(argv))
    except BaseException as e:  # an escape is a failure of the check, reported in the table
        code, err = 1, io.StringIO(f"escaped: {type(e).__name__}: {e}")
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    lines = [line for line in err.getvalue().splitlines() if line.strip() and "it/s" not in line and "%|" not in line]
    return f"[exit {code}] " + " | ".join(lines)


def alive(base: str) -> bool:
    try:
        with urllib.request.urlopen(base, timeout=15) as response:
            return response.status == 200
    except OSError:
        return False


def file_url(base: str, path: str) -> str:
    return f"{base}gradio_api/file={path}"


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
        assert len(body) == int(response.headers.get("Content-Length", len(body)))
        return body


# --- the run --------------------------------------------------------------------------------------------------------
def cases(base: str, web: str, tmp: str, canaries: dict[str, str], quick: bool) -> list[tuple[str, str, callable, str]]:
    """(door, input shown, call, words the answer must hold) for every case."""
    mcp_url = base + "gradio_api/mcp/"
    ok = data_url(png_bytes(Image.new("RGB", (40, 40), (30, 120, 60))))
    style = {"style": ok, "preset": "Quick", "size": 32}
    images = [
        ("/etc/passwd", "/etc/passwd", "content must be an http(s) address"),
        ("../../x", "../../x", "content must be an http(s) address"),
        ("a local canary path", canaries["path"], "content must be an http(s) address"),
        ("file:// URL", "file://" + canaries["path"], "content must be an http(s) address"),
        ("loopback URL", f"{web}/ok.png", "private or local network address"),
        ("private URL", "http://10.1.2.3/x.png", "private or local network address"),
        ("localhost non-image URL", web.replace("127.0.0.1", "localhost") + "/page.html",
         "private or local network address"),
        ("IPv6 loopback URL", "http://[::1]:9/x.png", "private or local network address"),
        ("non-image data", data_url(b"hello", "text/plain"), "is not an image file Pillow can read"),
        ("broken base64", "data:image/png;base64,!!!", "content is a data: URL whose base64 data is broken"),
        ("50-megapixel image", data_url(png_bytes(Image.new("1", (8000, 6250)))), "the image is too large"),
        ("zero-pixel image", data_url(zero_pixel_png()), "is not an image file Pillow can read"),
    ]
    if quick:
        images = [images[i] for i in (0, 3, 4, 6, 9, 10, 11)]
    rows = [("MCP stylize_image", shown, functools.partial(mcp, mcp_url, "stylize_image", {"content": value, **style}),
             words) for shown, value, words in images]
    numbers = [("size nan", {"size": float("nan")}, "size must be a whole number"),
               ("size 'big'", {"size": "big"}, "size must be a whole number; got 'big'"),
               ("size -5", {"size": -5}, "size must be a whole number"),
               ("size 10**30", {"size": 10**30}, "size must be a whole number"),
               ("style null", {"style": None}, "style must be text; got None"),
               ("preset 'Fastest'", {"preset": "Fastest"}, "preset must be one of Quick, Balanced, Best")]
    rows += [("MCP stylize_image", shown, functools.partial(mcp, mcp_url, "stylize_image",
                                                            {"content": ok, **style, **change}),
              words) for shown, change, words in (numbers[1::2] if quick else numbers)]
    rows += [("MCP top_patches", "unit 'x'", functools.partial(mcp, mcp_url, "top_patches",
                                                               {"layer": "conv1_1", "unit": "x"}),
              "unit must be a whole number; got 'x'"),
             ("MCP receptive_field", "no layer", functools.partial(mcp, mcp_url, "receptive_field", {}),
              "layer is missing"),
             ("MCP receptive_field", "layer 5", functools.partial(mcp, mcp_url, "receptive_field", {"layer": 5}),
              "layer must be text; got 5"),
             ("MCP conv_output_shape", "kernel 'inf'", functools.partial(
                 mcp, mcp_url, "conv_output_shape", {"input_sizes": "32x32", "input_channels": 3, "filters": 8,
                                                     "kernel_size": "inf"}), "inf")]
    payloads = [("FileData /etc/passwd", "/etc/passwd"), ("FileData canary", canaries["path"]),
                ("FileData ../../x", "../../x"), ("FileData private URL", "http://10.0.0.7/x.png")]
    rows += [("HTTP /stylize_image", shown, functools.partial(
        raw_call, base, "stylize_image", [{"path": p, "meta": {"_type": "gradio.FileData"}}, None, "Quick", 32]),
        "content") for shown, p in (payloads[:2] if quick else payloads)]
    vis = [("unit 64 of conv1_1", ["conv1_1", 64, 32, 0, "channel"], "unit of conv1_1 must be a whole number"),
           ("layer pool1", ["pool1", 0, 32, 0, "channel"], "pool1"),
           ("size 0", ["conv1_1", 0, 0, 0, "channel"], "Synthesis size"),
           ("size 100000", ["conv1_1", 0, 100000, 0, "channel"], "Synthesis size"),
           ("objective 'brightest'", ["conv1_1", 0, 32, 0, "brightest"], "channel, neuron"),
           ("512 px of conv5_4 at 1G", ["conv5_4", 0, 512, 0, "channel"], "choose a size up to")]
    rows += [("HTTP /feature_visualization", shown, functools.partial(raw_call, base, "feature_visualization", data),
              words) for shown, data, words in (vis[::2] + vis[-1:] if quick else vis)]
    probe = [("file:// URL", {"image": "file://" + canaries["path"]}, "image must be an http(s) address"),
             ("50-megapixel image", {"image": images[-2][1]}, "too large"),
             ("top 0", {"image": ok, "top": 0}, "top"), ("layer relu1_1", {"image": ok, "layer": "relu1_1"},
                                                          "layer must be one of")]
    rows += [("MCP probe_photo", shown, functools.partial(mcp, mcp_url, "probe_photo", arguments), words)
             for shown, arguments, words in (probe[:2] if quick else probe)]
    hub_source = "A Hugging Face dataset (streamed)"
    pages = [("Hub name ../../x", "../../x", "is not a Hugging Face dataset name"),
             ("Hub name /etc", "/etc", "is not a Hugging Face dataset name"),
             ("Hub name hf:", "hf:", "type a Hugging Face dataset name first")]
    rows += [("HTTP /explorer_page", shown, functools.partial(
        raw_call, base, "explorer_page", [hub_source, None, "conv1_1", "patches", "deconvnet", 1, name, False, 128, 0,
                                          "channel"]), words) for shown, name, words in (pages[:1] if quick else pages)]
    rows += [("HTTP /layer_lab", "FileData canary", functools.partial(
        raw_call, base, "layer_lab", [{"path": canaries["path"], "meta": {"_type": "gradio.FileData"}}, None, 64, 1,
                                      1, 0]), "Content image: that file is not an upload"),
             ("MCP layer_depth_lab", "size 1000", functools.partial(
                 mcp, mcp_url, "layer_depth_lab", {"content": ok, "style": ok, "size": 1000, "steps": 1}),
              "size must be a whole number from 32 to 192; got 1000")]  # the schema's range, named as sent
    rows += [("MCP stylize_image", "2048 px at NST_MAX_MEMORY=1G", functools.partial(
        mcp, mcp_url, "stylize_image", {"content": ok, "style": ok, "preset": "Quick", "size": 2048}),
        "choose a size up to")]
    return rows


def cli_cases(tmp: str, quick: bool) -> list[tuple[str, str, callable, str]]:
    """The explorer's command line: tampered indexes, Hub specs, engines, feature visualisation."""
    index = os.path.join(tmp, "tag-only.pt")
    torch.save({"format": 2}, index)
    with open(os.path.join(tmp, "truncated.pt"), "wb") as f:
        f.write(b"PK\x03\x04cut")
    out, photos = os.path.join(tmp, "o.png"), os.path.join(tmp, "photos")
    a_file = os.path.join(tmp, "a-file")
    open(a_file, "w").close()
    rows = [
        ("render", "index with only its format tag", ("render", index, "--layer", "conv1_1", "-o", out),
         "tag-only.pt: the field 'settings' is missing"),
        ("render", "a truncated index", ("render", os.path.join(tmp, "truncated.pt"), "--layer", "conv1_1", "-o", out),
         "not an explorer index"),
        ("scan", "hf:", ("scan", "hf:", "--out", out[:-4] + ".pt"), "write a Hub dataset as"),
        ("scan", "hf:/", ("scan", "hf:/", "--out", out[:-4] + ".pt"), "write a Hub dataset as"),
        ("scan", "hf:owner/name:::", ("scan", "hf:owner/name:::", "--out", out[:-4] + ".pt"), "write a Hub dataset"),
        ("scan", "hf:../../x", ("scan", "hf:../../x", "--out", out[:-4] + ".pt"), "write a Hub dataset as"),
        ("scan", "hf:owner (no network)", ("scan", "hf:owner", "--out", out[:-4] + ".pt"), "could not be reached"),
        ("scan", f"hf:{photos}:nosplit", ("scan", f"hf:{photos}:nosplit", "--out", out[:-4] + ".pt"), "no split"),
        ("scan", "--engine spark", ("scan", photos, "--engine", "spark", "--out", out[:-4] + ".pt"),
         "choose from 'local', 'ray'"),
        ("visualize", "unit 64 of conv1_1", ("visualize", "conv1_1", "--units", "64", "-o", out), "units 0 ... 63"),
        ("visualize", "units 0-10**14", ("visualize", "conv1_1", "--units", "0-99999999999999", "-o", out),
         "units 0 ... 63"),
        ("visualize", "layer pool1", ("visualize", "pool1", "-o", out), "invalid choice: 'pool1'"),
        ("visualize", "size 0", ("visualize", "conv1_1", "--size", "0", "-o", out), "size must be"),
        ("visualize", "size 4096", ("visualize", "conv1_1", "--size", "4096", "-o", out), "size must be"),
        ("visualize", "steps 0", ("visualize", "conv1_1", "--steps", "0", "-o", out), "steps must be"),
        ("visualize", "objective 'brightest'", ("visualize", "conv1_1", "--objective", "brightest", "-o", out),
         "invalid choice: 'brightest'"),
        ("visualize", "--save-dir a file", ("visualize", "conv1_1", "--save-dir", a_file), "not a folder"),
        ("visualize", "--save-dir under a file", ("visualize", "conv1_1", "--save-dir", a_file + "/sub"),
         "a file is in the way"),
    ]
    if quick:
        rows = [rows[i] for i in (0, 3, 5, 8, 9, 12, 16)]
    result = [(f"CLI explorer {door}", shown, functools.partial(cli, *argv), words)
              for door, shown, argv, words in rows]
    result.append(("CLI explorer scan", "--engine ray, RAY_ADDRESS where nothing listens", functools.partial(
        cli, "scan", photos, "--engine", "ray", "--out", out[:-4] + ".pt",
        env={"RAY_ADDRESS": f"127.0.0.1:{free_port()}"}), "no Ray cluster answers there"))
    return result


def judge(answer: str, words: str) -> str:
    """Why ``answer`` breaks the promise ("" when it keeps it)."""
    if answer.startswith("(accepted)"):
        return "accepted instead of refused"
    if words not in answer:
        return f"does not say {words!r}"
    if "\n" in answer.strip() or answer.count(" | ") > 0:
        return "more than one line"
    if CLASS_NAMES.search(answer):
        return "names an exception class or shows a traceback"
    if ROOT in answer or "site-packages" in answer:
        return "shows a server path"
    return ""


def run(quick: bool = False) -> tuple[list[Row], list[str]]:
    """Every case; the table's rows and the failed checks that are not rows (log, canaries, data, disk)."""
    problems: list[str] = []
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="nst-hostile-") as tmp:
        web_folder, private = os.path.join(tmp, "web"), os.path.join(tmp, "outside")
        for folder in (web_folder, private, os.path.join(tmp, "photos")):
            os.makedirs(folder)
        Image.new("RGB", (40, 40), (200, 10, 10)).save(os.path.join(web_folder, "ok.png"))
        with open(os.path.join(web_folder, "page.html"), "w") as f:
            f.write("<html>not an image</html>")
        for i in range(2):
            Image.fromarray(np.full((40, 40, 3), 60 * i, np.uint8)).save(os.path.join(tmp, "photos", f"p{i}.png"))
        canaries = {"path": os.path.join(private, "canary.png")}
        Image.new("RGB", (8, 8), (1, 2, 3)).save(canaries["path"])
        app_files = {name: os.path.join(tmp, "app", name) for name in ("gradio", "explorer", "tmp")}
        now = time.time()
        for i in range(70):  # 70 MB of old uploads: past the 64M bound
            old = os.path.join(app_files["gradio"], f"old{i:02d}", "upload.png")
            os.makedirs(os.path.dirname(old))
            with open(old, "wb") as f:
                f.write(os.urandom(MB))
            os.utime(old, (now - 7200 + i, now - 7200 + i))
        watch = Inotify(canaries.values())
        env = {"NST_MAX_MEMORY": "1G", "NST_CACHE_LIMIT": LIMIT, "GRADIO_TEMP_DIR": app_files["gradio"],
               "NST_EXPLORER_CACHE": app_files["explorer"], "TMPDIR": app_files["tmp"], "HF_HUB_OFFLINE": "0",
               "NST_HUB_TIMEOUT": "1"}
        os.makedirs(app_files["tmp"])
        log = os.path.join(tmp, "app.log")
        with local_web(web_folder) as web, serve_app(log, **env) as server:
            base = server.url
            saved = raw_call(base, "feature_visualization", ["conv1_1", 3, 32, 0, "channel"])
            saved_path = json.loads(saved.removeprefix("(accepted) "))[0]["path"]
            before = fetch(file_url(base, saved_path))
            kept = sum(size for _, size, _ in files_under(app_files.values()))
            if kept > 64 * MB:
                problems.append(f"the app's files take {kept / MB:.0f} MB after a result, past {LIMIT}")
            for door, shown, call, words in cases(base, web, tmp, canaries, quick) + cli_cases(tmp, quick):
                started = time.monotonic()
                try:
                    answer = call()
                except Exception as e:  # the client itself failing is a failed case
                    answer = f"(client failed) {type(e).__name__}: {e}"
                answer = " ".join(answer.split())
                row = Row(door, shown, answer, alive(base))
                row.problem = judge(answer, words) or ("" if row.alive else "the server stopped answering")
                if time.monotonic() - started > 30:
                    row.problem = row.problem or f"took {time.monotonic() - started:.0f} s"
                rows.append(row)
            if fetch(file_url(base, saved_path)) != before:
                problems.append("the result saved before the hostile cases changed or went")
        text = open(log).read()
        if "Traceback" in text:
            problems.append("the server log holds a traceback: " + text[text.index("Traceback"):][:600])
        if watch.events():
            problems.append("a canary file outside the studio's folders was opened")
        if any("canary" in path for path in QuietHandler.requests):
            problems.append("the local web server was asked for a file")
    return rows, problems


def table(rows: list[Row]) -> str:
    lines = [f"{'door':<30} {'input':<44} {'alive':<5} answer"]
    for r in rows:
        mark = "" if not r.problem else f"   <-- FAIL: {r.problem}"
        lines.append(f"{r.door:<30} {r.given[:44]:<44} {'yes' if r.alive else 'NO':<5} {r.answer[:150]}{mark}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few cases per door (for CI)")
    args = parser.parse_args(argv)
    rows, problems = run(args.quick)
    print(table(rows))
    failed = [r for r in rows if r.problem]
    for problem in problems:
        print("FAIL:", problem)
    print(f"{len(rows)} cases, {len(failed)} failed; {len(problems)} other checks failed")
    return 0 if not failed and not problems else 1


if __name__ == "__main__":
    sys.exit(main())

"""Render the HTML bulletin in headless Chromium: the page must paint (not blank) with no console errors.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and, for CJK glyphs rather than boxes, a CJK font
(``fonts-noto-cjk``); ``.ci/run`` installs both when it can. Without Chromium the test is skipped with the
reason shown. The PNG is decoded with the standard library only (zlib + PNG scanline filters).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import warnings
import zlib
from pathlib import Path

import pytest

from tests.report.bulletin_data import write_fixtures
from tests.support import invoke

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, channels, raw pixel bytes) of an 8-bit RGB/RGBA/grey PNG, filters undone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, bytearray(), 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8, f"bit depth {depth} not handled"
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    out = bytearray(stride * height)
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return width, height, channels, bytes(out)


def cjk_font_installed() -> bool:
    if not shutil.which("fc-list"):
        return False
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout
    return bool(found.strip())


@pytest.fixture
def html_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    files = write_fixtures(tmp_path)
    result = invoke([
        "bulletin", str(files["current"]), "-c", str(files["criteria"]), "--previous", str(files["previous"]),
        "--targets", str(files["targets_csv"]), "--skip-invalid", "--area", "示范县", "--period", "2024-Q2",
        "--date", "2024-07-05", "-f", "html", "-o", "bulletin.html"])
    assert result.exit_code == 0, result.output
    return tmp_path / "bulletin.html"


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=180, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium "
                    "fonts-noto-cjk); the HTML bulletin was not rendered in a browser")
def test_html_bulletin_renders_in_chromium(html_file: Path, tmp_path: Path) -> None:
    if not cjk_font_installed():
        warnings.warn("no CJK font (fonts-noto-cjk): Chinese text renders as boxes in the screenshot",
                      stacklevel=1)
    shot = tmp_path / "bulletin.png"
    proc = run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", "--enable-logging=stderr",
                        "--v=0", html_file.as_uri())
    assert shot.exists(), f"no screenshot: {proc.stderr[-2000:]}"
    console = [line for line in proc.stderr.splitlines()
               if "CONSOLE" in line or "Uncaught" in line or "Content Security Policy" in line]
    assert console == [], "console errors:\n" + "\n".join(console)

    width, height, channels, pixels = decode_png(shot.read_bytes())
    assert (width, height) == (1200, 2000)
    step = channels * 7  # sample every 7th pixel
    colours = {pixels[i:i + 3] for i in range(0, len(pixels) - 3, step)}
    assert len(colours) > 50, "the screenshot is (nearly) blank"
    dark = sum(1 for i in range(0, len(pixels) - 3, step) if max(pixels[i:i + 3]) < 100)
    assert dark > 2000, "hardly any text was painted"
    # the red title and chart bars (#b22222) were painted: the CSS and the inline SVG rendered
    reds = sum(1 for i in range(0, len(pixels) - 3, step)
               if pixels[i] > 150 and pixels[i + 1] < 70 and pixels[i + 2] < 70)
    assert reds > 200


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed; the DOM was not checked in a browser")
def test_html_bulletin_dom_in_chromium(html_file: Path, tmp_path: Path) -> None:
    proc = run_chromium(tmp_path, "--dump-dom", html_file.as_uri())
    dom = proc.stdout
    assert "<h1>示范县2024年第二季度“五星”支部创建情况通报</h1>" in dom
    assert dom.count("<svg") == 3 and dom.count("<h2>") == 10
    assert "<script" not in dom and "http://" not in dom.replace("http://www.w3.org/2000/svg", "")


def test_png_decoder_round_trip() -> None:
    # a 2×1 RGB image with filter type 1 (sub) on its only scanline
    raw = bytes([1, 10, 20, 30, 5, 5, 5])
    ihdr = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    assert decode_png(png) == (2, 1, 3, bytes([10, 20, 30, 15, 25, 35]))

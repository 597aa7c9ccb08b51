"""Test-wide settings: wuxing's cache (replayed help, validated criteria) lives in a temporary folder."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Set before any test runs, so in-process runs and every subprocess use it, never ~/.cache/wuxing.
if "WUXING_CACHE_DIR" not in os.environ:
    _folder = tempfile.mkdtemp(prefix="wuxing-test-cache-")
    os.environ["WUXING_CACHE_DIR"] = _folder
    atexit.register(shutil.rmtree, _folder, ignore_errors=True)

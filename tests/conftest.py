"""Shared test set-up. Paths, the CLI runner and the golden-file check live in ``tests/support.py``.

Subprocesses compile wuxing once: the environment sets PYTHONDONTWRITEBYTECODE=1, so every child
process would recompile the whole package. Children instead write their bytecode into one temporary
folder (PYTHONPYCACHEPREFIX), never into the tree, and the folder is removed at exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_PYCACHE = tempfile.mkdtemp(prefix="wuxing-tests-pycache-")
atexit.register(shutil.rmtree, _PYCACHE, ignore_errors=True)
os.environ["PYTHONPYCACHEPREFIX"] = _PYCACHE
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

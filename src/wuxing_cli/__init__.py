"""wuxing: score, rank and report Henan's "五星"支部 assessments.

The library entry points are :func:`wuxing_cli.pipeline.run_score` (load, score, rank) and the pure
engine in :mod:`wuxing_cli.engine`; the CLI in :mod:`wuxing_cli.cli` is a thin layer over them.
"""

from ._version import __version__

__all__ = ["__version__"]

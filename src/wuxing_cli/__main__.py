"""``python -m wuxing_cli``: the same as the ``wuxing`` command."""

from wuxing_cli.cli import main

main()

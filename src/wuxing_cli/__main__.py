"""``python -m wuxing_cli``."""

from wuxing_cli.cli import main

main()

"""``python -m wuxing_cli``."""

from wuxing_cli.launch import main

main()

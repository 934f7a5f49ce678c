"""``python -m jala`` is the ``jala`` command."""
from jala.cli import main

main()

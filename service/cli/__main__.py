"""``python -m service.cli`` is ``hetong``."""

from service.cli import main

main()

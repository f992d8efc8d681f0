"""``python -m service`` is the ``catterms`` command."""

from .cli import main

raise SystemExit(main())

"""``python -m mmrag``: the same as the ``mmrag`` command."""

import sys

from .cli import main

sys.exit(main())

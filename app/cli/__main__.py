"""``python -m app.cli``: the ``fidus`` command."""

import sys

from app.cli import main

sys.exit(main())

"""Entry point of ``python -m ranker``."""

import sys

from ranker.cli import main

sys.exit(main())

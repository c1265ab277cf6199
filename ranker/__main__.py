"""Entry point of ``python -m ranker``."""

import os
import sys

# The models are bundled: never let the Hugging Face libraries look for them online.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from ranker.cli import main

sys.exit(main())

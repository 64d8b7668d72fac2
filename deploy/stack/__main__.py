"""``python -m deploy.stack up|down|status``."""

import sys

from deploy.stack.cli import main

sys.exit(main())

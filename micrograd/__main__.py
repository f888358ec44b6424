"""`python -m micrograd`: the command line (see `micrograd.cli`)."""

import sys

from micrograd.cli import main

sys.exit(main())

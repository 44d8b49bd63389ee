"""``python -m noise2noise.cli`` (as torchrun launches it) = ``n2n``."""

import sys

from . import main

sys.exit(main())

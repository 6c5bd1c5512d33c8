import sys

from tacsuite.cli import main

sys.exit(main())

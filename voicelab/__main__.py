"""`python -m voicelab` runs the command line."""

from voicelab.cli import main

raise SystemExit(main())

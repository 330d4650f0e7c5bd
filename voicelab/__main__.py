"""`python -m voicelab` runs the command line."""

from voicelab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m voicelab.cli` runs the command line, as `python -m voicelab` does."""

from voicelab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

"""Start Agent Desk from a source checkout: ``python main.py --demo``."""

from agent_desk.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

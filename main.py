"""Start Agent Desk from a source checkout: ``python main.py --demo``."""

from agent_desk.cli import run

if __name__ == "__main__":
    run()

from agent_desk.cli import run

run()

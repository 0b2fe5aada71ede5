"""Agent Desk: a desktop workstation for social collection."""

__version__ = "0.1.0"

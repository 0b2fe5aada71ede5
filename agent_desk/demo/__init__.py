"""The demo: realistic, deterministic data for trying the desk, the CLI and the tests.

``cast`` (who and what appears), ``generator`` (the rows, as plain data), ``loader``
(writes them in bulk through ``services.bulk``) and ``signals`` (the early-signal
stages, taken with the desk's own services). Only the composition roots (``app``,
``cli``), tests and benchmarks load it; no service imports it.
"""

from agent_desk.demo.loader import DEMO_CUSTOMERS, DemoSummary, load_demo

__all__ = ["DEMO_CUSTOMERS", "DemoSummary", "load_demo"]

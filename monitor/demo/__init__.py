"""`monitor demo`: the whole service shown offline, with a local news site, mail sink and Slack receiver."""

from monitor.demo.run import DemoError, DemoReport, run_demo

__all__ = ["DemoError", "DemoReport", "run_demo"]

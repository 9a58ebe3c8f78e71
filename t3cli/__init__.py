"""t3cli: a command-line agent session manager over a local SQLite event log.

The package keeps its import cheap on purpose: `t3 queue` and every TAB completion import this
module, so nothing heavy (pydantic, rich, sqlite-utils, the reactor, providers) is imported here.
"""

__version__ = "0.1.0"

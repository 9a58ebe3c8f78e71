"""The reactor: turns queued and requested turns into agent runs, and agent output into events.

`t3 run` and the reactor embedded in `t3 send` share this implementation (`loop.Reactor`).
Importing this package is cheap; the heavy parts load when a reactor starts.
"""

from t3cli.reactor.loop import Reactor, ReactorOptions

__all__ = ["Reactor", "ReactorOptions"]

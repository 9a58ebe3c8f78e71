"""The `t3` command line (typer). One module per command group, each with `register(app)`.

Heavy modules (rich, pydantic, sqlite-utils, the reactor, providers) are imported inside command
functions only, so `t3 queue` and TAB completion stay fast.
"""

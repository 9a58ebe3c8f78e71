"""Contracts: ids, commands, events and provider runtime events.

Declared once as typed, frozen stdlib dataclasses so that the CLI's hot path (`t3 queue`) can build
and serialise them without importing pydantic (~145 ms to import and build a first model on this
machine class, against an 11 ms interpreter start). pydantic validates the very same classes —
discriminated unions on `type` — wherever untrusted data enters; see `t3cli.contracts.validation`.
"""

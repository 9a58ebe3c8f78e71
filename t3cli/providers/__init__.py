"""Provider adapters: run one turn of a thread on an agent and report it as runtime events.

Public surface:

- `t3cli.providers.base`: `TurnRequest`, `TurnRun`, `Provider`, `ProviderCheck` (the protocol the
  reactor codes against; cheap to import).
- `t3cli.providers.registry`: `BUILTIN_PROVIDERS`, `provider_names`, `get_provider`, `check_all`.

The adapters themselves (`echo`, `codex`, `claude`, `command`) and the private modules (`_process`,
`_guard`, `_options`, ...) are loaded only by `registry.get_provider`, so that importing this
package stays cheap on the CLI hot path (no pydantic, no asyncio).
"""

"""The real codex and claude CLIs, driven through `t3`, against a loopback mock model.

`world` is one scenario's setting, parametrized over the pinned agents (`agents.AGENTS`): a fresh
`T3_HOME` whose `config.toml` points the agent's provider at the real executable (through a
wrapper that logs each argv), the agent's private state directory (`CODEX_HOME` with a custom
model provider, or `CLAUDE_CONFIG_DIR`), a project directory (a git repository), a private `HOME`,
and a `MockModel` the agent talks to. Nothing reaches beyond 127.0.0.1.

Every scenario ends by checking `t3 replay --check`: the projections equal a full rebuild.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import t3_executable

from .agents import AGENTS, Agent, AgentUnavailable, install
from .mock_models import MockModel

_INSTALLED: dict[str, Path] = {}


def agent_executable(agent: Agent) -> Path:
    """The installed agent, or a visible skip (a failure under CI=true) saying why not."""
    if agent.id not in _INSTALLED:
        try:
            _INSTALLED[agent.id] = install(agent)
        except AgentUnavailable as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"real {agent.id} unavailable in CI: {exc}")
            pytest.skip(f"real {agent.id} unavailable: {exc}")
    return _INSTALLED[agent.id]


# Variables of the developer's environment that would point an agent elsewhere.
_FOREIGN = ("ANTHROPIC_", "OPENAI_", "CODEX_", "CLAUDE_", "T3_")


@dataclass
class World:
    agent: Agent
    root: Path
    model: MockModel
    options: dict[str, Any] = field(default_factory=dict)
    codex_retries: int = 0  # codex's own retries of a failed model request (0: fail fast)

    def __post_init__(self) -> None:
        self.home = self.root / "t3home"
        self.project = self.root / "project"
        self.state = self.root / "agent-state"
        self.argv_log = self.root / "argv.jsonl"
        for path in (self.home, self.project, self.state, self.root / "home"):
            path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", str(self.project)], check=True)
        self._write_agent_state()
        self.wrapper = self.root / f"{self.agent.kind}-wrapper"
        # Log the argv t3 gave the agent, then become the agent (same pid and process group).
        self.wrapper.write_text(
            "#!/bin/sh\n"
            f"{shlex.quote(sys.executable)} -c 'import json, sys; "
            "open(sys.argv[1], \"a\").write(json.dumps(sys.argv[2:]) + \"\\n\")' "
            f'{shlex.quote(str(self.argv_log))} "$@"\n'
            f'exec {shlex.quote(str(agent_executable(self.agent)))} "$@"\n'
        )
        self.wrapper.chmod(0o755)
        self.configure()

    def _write_agent_state(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        if self.agent.kind == "codex":
            (self.state / "config.toml").write_text(
                'model_provider = "mock"\n'
                'model = "mock-model"\n'
                "[model_providers.mock]\n"
                'name = "mock"\n'
                f'base_url = "{self.model.base_url}/v1"\n'
                'wire_api = "responses"\n'
                'env_key = "T3_MOCK_API_KEY"\n'
                f"request_max_retries = {self.codex_retries}\n"
                f"stream_max_retries = {self.codex_retries}\n"
            )

    def set_codex_retries(self, retries: int) -> None:
        self.codex_retries = retries
        self._write_agent_state()

    def lose_agent_state(self) -> None:
        """The agent forgets every session (its state directory is replaced by a fresh one), as
        after wiping ~/.codex or ~/.claude, or moving to another machine."""
        self.state.rename(self.root / "agent-state-before")
        self._write_agent_state()

    @property
    def provider(self) -> str:
        return self.agent.kind

    def agent_env(self) -> dict[str, str]:
        if self.agent.kind == "codex":
            return {"CODEX_HOME": str(self.state), "T3_MOCK_API_KEY": "mock-key"}
        return {
            "ANTHROPIC_BASE_URL": self.model.base_url,
            "ANTHROPIC_API_KEY": "mock-key",
            "CLAUDE_CONFIG_DIR": str(self.state),
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
        }

    def configure(self, env: dict[str, str] | None = None, **options: Any) -> None:
        """(Re)write `[providers.KIND]` with `options` (e.g. `turn_timeout_s=2`)."""
        self.options = options
        table: dict[str, Any] = {
            "binary": str(self.wrapper),
            "env": {**self.agent_env(), **(env or {})},
            **options,
        }
        lines = ["[reactor]", "poll_interval_ms = 20", "", f"[providers.{self.provider}]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items() if key != "env"]
        lines += ["", f"[providers.{self.provider}.env]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in table["env"].items()]
        (self.home / "config.toml").write_text("\n".join(lines) + "\n")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
        env.update(T3_HOME=str(self.home), HOME=str(self.root / "home"), NO_COLOR="1")
        return env

    def t3(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*t3_executable(), *args],
            cwd=self.project,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen_t3(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*t3_executable(), *args],
            cwd=self.project,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def new_thread(self, title: str = "real") -> str:
        done = self.t3("new", "--provider", self.provider, "--title", title)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def show(self, thread: str) -> dict[str, Any]:
        done = self.t3("show", thread, "--json")
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def events(self, thread: str, glob: str) -> list[dict[str, Any]]:
        done = self.t3("events", "--thread", thread, "--type", glob, "--json")
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]

    def argvs(self) -> list[list[str]]:
        if not self.argv_log.exists():
            return []
        return [json.loads(line) for line in self.argv_log.read_text().splitlines()]

    def assert_replay_clean(self) -> None:
        done = self.t3("replay", "--check")
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(params=AGENTS, ids=[agent.id for agent in AGENTS])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    agent: Agent = request.param
    with MockModel() as model:
        world = World(agent, tmp_path, model)
        yield world
        world.assert_replay_clean()


def agents(kind: str) -> pytest.MarkDecorator:
    """Run a scenario that concerns one agent kind only with the pinned versions of that kind."""
    chosen = [agent for agent in AGENTS if agent.kind == kind]
    return pytest.mark.parametrize("world", chosen, ids=[a.id for a in chosen], indirect=True)

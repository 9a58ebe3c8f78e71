"""The leash: a tiny supervisor between a reactor and one agent, so the agent dies with its reactor.

Run by `t3cli.providers._process` as `python -I -S _leash.py REACTOR_PID CONTROL_FD`, as the
leader of a new process group (a new session), with the agent's stdin, stdout and stderr. It
imports only the standard library and nothing of t3cli: `-S` skips site-packages, so it starts
in a few tens of milliseconds.

1. It asks the kernel for SIGTERM when its parent thread dies (`PR_SET_PDEATHSIG`, Linux), then
   checks that its parent is still REACTOR_PID (a reactor that died before that call left it
   with another parent: it exits without starting anything).
2. It waits on CONTROL_FD (one end of a socket pair) for the launch: the executable, argv and
   environment, NUL-separated. The reactor sends it only once the agent's process group is
   recorded in the log; if the reactor closes the socket without sending, nothing is started.
3. It starts the agent in its own process group with default signal dispositions and an empty
   signal mask, replies `ok PID` (or `err ERRNO REASON` if the agent could not be started, then
   exits 127) and closes the socket.
4. It waits for the agent and exits as it did: the same exit status, or killed by the same
   signal. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to the group reach the agent, which decides;
   the leash itself only checks, on each of them, whether its reactor is gone.
5. Reactor gone (the parent-death signal, or — without `prctl` — a poll of the parent pid every
   quarter second): it SIGKILLs the whole group, agent and everything the agent started, itself
   included. A SIGKILLed reactor thus leaves no agent running behind it.
"""

import os
import signal
import sys
import time

_PR_SET_PDEATHSIG = 1
_POLL_S = 0.25
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_NO_CORE = (signal.SIGQUIT, signal.SIGILL, signal.SIGABRT, signal.SIGFPE, signal.SIGSEGV)


def _kill_group() -> None:
    os.killpg(0, signal.SIGKILL)


def _orphaned(reactor: int) -> bool:
    return os.getppid() != reactor


def _watch_parent(reactor: int) -> bool:
    """Arrange SIGTERM on the parent's death; True if the kernel will send it (Linux)."""

    def on_signal(signum: int, frame: object) -> None:
        if _orphaned(reactor):
            _kill_group()

    for sig in _FORWARDED:
        signal.signal(sig, on_signal)
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _read_launch(control: int) -> list[bytes] | None:
    data = bytearray()
    while True:
        block = os.read(control, 65536)
        if not block:
            break
        data += block
    if not data:
        return None
    return bytes(data).split(b"\0")


def _start(fields: list[bytes]) -> int:
    path, count = fields[0], int(fields[1])
    argv = fields[2 : 2 + count]
    env = dict(item.split(b"=", 1) for item in fields[2 + count :] if b"=" in item)
    reset = {signal.SIGPIPE, signal.SIGXFSZ, *_FORWARDED}  # Python ignores the first two
    return os.posix_spawn(path, argv, env, setsigdef=reset, setsigmask=())


def _exit_like(status: int) -> None:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in _NO_CORE:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the agent's crash, not ours
        if sig != signal.SIGKILL:  # which cannot be caught, nor reset
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)  # a signal whose default is not to terminate
    os._exit(os.waitstatus_to_exitcode(status))


def main() -> None:
    reactor, control = int(sys.argv[1]), int(sys.argv[2])
    os.set_inheritable(control, False)  # the agent must not hold the reactor's socket
    kernel_watches = _watch_parent(reactor)
    if _orphaned(reactor):
        os._exit(125)
    fields = _read_launch(control)
    if fields is None or _orphaned(reactor):
        os._exit(125)
    try:
        agent = _start(fields)
    except OSError as exc:
        os.write(control, f"err {exc.errno or 0} {exc.strerror or exc}\n".encode())
        os._exit(127)
    os.write(control, f"ok {agent}\n".encode())
    os.close(control)
    while True:
        pid, status = os.waitpid(agent, 0 if kernel_watches else os.WNOHANG)
        if pid == agent:
            _exit_like(status)
        if _orphaned(reactor):
            _kill_group()
        time.sleep(_POLL_S)


if __name__ == "__main__":
    main()

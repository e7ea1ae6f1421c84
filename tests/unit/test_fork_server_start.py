"""Starting a sweep's fork server neither loses a Ctrl-C that lands meanwhile nor lets the fork
server see it (`explorer.fork_server.start_fork_server`, `explorer.process_lifetime.interrupts_blocked`);
a local Dask cluster's processes start with it blocked too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from explorer import fork_server, process_lifetime


def test_a_ctrl_c_during_the_spawn_is_handled_once_it_returns(monkeypatch) -> None:
    """The signal lands while the fork server is being spawned (here: sent by the stand-in for
    the spawn); it must reach this process's handler afterwards, not be dropped."""
    handled: list[int] = []
    monkeypatch.setattr(process_lifetime.resource_tracker, "ensure_running", lambda: None)
    monkeypatch.setattr(fork_server.forkserver, "ensure_running", lambda: os.kill(os.getpid(), signal.SIGINT))
    previous = signal.signal(signal.SIGINT, lambda signum, frame: handled.append(signum))
    try:
        fork_server.start_fork_server()
        assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())  # the mask is restored
        signal.pthread_sigmask(signal.SIG_BLOCK, set())  # a call, so a pending handler runs
    finally:
        signal.signal(signal.SIGINT, previous)
    assert handled == [signal.SIGINT]


def test_a_process_started_with_ctrl_c_blocked_ignores_one_pending_and_unblocks() -> None:
    """What the fork server does at start-up (`explorer.forkserver_setup`): a Ctrl-C that arrived
    while it was blocked is discarded, not raised, and later ones are ignored too."""
    code = (
        "import os, signal\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"  # pending: blocked since the spawn
        "from explorer.process_lifetime import ignore_interrupts\n"
        "ignore_interrupts()\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "print(sorted(signal.pthread_sigmask(signal.SIG_BLOCK, set())), flush=True)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}),
    )  # fmt: skip
    assert (child.returncode, child.stdout, child.stderr) == (0, "[]\n", "")


def test_a_local_dask_clusters_worker_processes_hold_ctrl_c_off() -> None:
    """Dask's workers would print their own traceback at a Ctrl-C to the process group; they are
    started with SIGINT blocked (`explorer.dask_executor`), which their start-up never undoes."""
    from explorer.dask_executor import DaskExecutor

    with DaskExecutor(2) as pool:
        workers = list(pool._client.run(os.getpid).values())  # each worker's own process id
        blocked = [_blocked_signals(pid) for pid in workers]
    assert len(workers) == 2 and os.getpid() not in workers, workers
    assert all(signal.SIGINT in mask for mask in blocked), blocked
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())  # this thread's mask is restored


def _blocked_signals(pid: int) -> set[int]:
    """The signals process `pid`'s main thread blocks (`SigBlk` of /proc/PID/status)."""
    mask = next(int(line.split()[1], 16) for line in open(f"/proc/{pid}/status") if line.startswith("SigBlk:"))
    return {bit + 1 for bit in range(64) if mask >> bit & 1}

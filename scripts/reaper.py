"""Runs a command as a child subreaper: processes it leaves behind (a function instance whose
`cargo lambda watch` was killed, say) are re-parented to this process instead of PID 1, reaped
here, and killed when the command ends. So the stack never leaks processes, and a test that
kills part of it cannot disturb anything outside.

usage: python3 scripts/reaper.py COMMAND [ARGS...]
"""

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def orphans():
    """Pids of our children other than the command: the leftovers re-parented to us."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                found.append(int(entry))
    return found


def main():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    child = subprocess.Popen(sys.argv[1:])
    # Ctrl-C reaches the command through the terminal; a TERM sent to us is passed on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    code = None
    while code is None:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child.pid:
            code = os.waitstatus_to_exitcode(status)
    for pid in orphans():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    sys.exit(128 - code if code is not None and code < 0 else (code or 0))


if __name__ == "__main__":
    main()

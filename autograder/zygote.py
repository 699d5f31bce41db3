"""A fork server for sandboxed kernels: import torch once per worker, not once per student.

Starting a kernel that imports torch, numpy and matplotlib costs about 2.5 s of CPU, more
than half of what grading a short notebook costs. The zygote is a root process on the
host, started once per grading worker with the kernel's environment, that imports those
libraries and then, for each student, forks a kernel that is already warm.

The sandbox itself is still bubblewrap's (see sandbox.py): for each kernel the worker
starts bwrap with exactly the same filesystem view, namespaces and limits as before, but
the command inside is a tiny *waiter* (``WAITER``) instead of ipykernel. Once the waiter
runs (the sandbox is built), the zygote forks a child that

1. joins the sandbox's IPC, UTS, network, PID and mount namespaces with setns(2), as
   nsenter(1) or ``docker exec`` do (after the mount namespace, its root and cwd are the
   sandbox's: the host's files are out of reach), then forks again so that
2. the kernel process lives in the sandbox's PID namespace; it replaces its standard
   streams, closes every other file descriptor it inherited, starts a new session, drops
   root exactly as setpriv does in the exec path (supplementary groups, bounding set,
   setresgid/setresuid to the slot's uid, no_new_privs), sets the same rlimits as prlimit,
   replaces its environment, reseeds the random generators that a fresh process would
   have seeded from the OS (so students do not share a stream), and runs ipykernel.

The waiter watches the kernel (a pidfd) and exits when it does, so to jupyter_client the
bwrap process behaves like the kernel process (it dies when the kernel dies, killing it
kills the sandbox's PID namespace and every process in it). The kernel's parent stays
outside the sandbox's PID namespace, as root, only to reap it.

Every kernel inherits the zygote's memory, so the zygote never holds anything of a student:
it is a fresh interpreter that imported libraries, and its requests name only the sandbox's
per-kernel folder (the kernel's output goes to a file there, which the worker then copies
to the student's log), never a path with a student's id.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.
"""
import ctypes
import json
import os
import resource
import signal
import sys
import traceback

#: Modules a notebook of this course imports; a kernel forked from here has them loaded.
PRELOAD = ("numpy", "numpy.random", "torch", "torch.nn", "torch.nn.functional", "matplotlib",
           "matplotlib.pyplot", "ipykernel.kernelapp")

#: The command bwrap runs in the sandbox (through setpriv and prlimit, as the student's
#: uid): report that the sandbox is ready, learn the kernel's pid, wait until it exits.
WAITER = ("import os, select, sys\n"
          "open(sys.argv[1], 'w').write('ready')\n"
          "pid = int(open(sys.argv[2]).read())\n"
          "select.select([os.pidfd_open(pid)], [], [])\n")

_NAMESPACES = ("ipc", "uts", "net", "pid", "mnt")  # mnt last: after it, /proc is the sandbox's
_PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS, _PR_SET_DUMPABLE = 24, 38, 4
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _preload(matplotlib_dir):
    # matplotlib builds its font list on import: do it once, here
    os.environ["MPLCONFIGDIR"] = matplotlib_dir
    for name in PRELOAD:
        __import__(name)


def _drop_privileges(uid):
    os.setgroups([])
    last_cap = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last_cap + 1):
        _check(_libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0), "dropping the capability bounding set")
    # all three ids: a root saved uid would let the process switch back
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # clears the permitted, effective and ambient capabilities
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs")
    # an exec would have made the process dumpable again; without it /proc/self stays root's
    _check(_libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0), "making the process dumpable")
    if os.getuid() != uid or os.geteuid() != uid or os.getgroups():
        raise OSError("the kernel did not drop root")


def _set_limits(limits):
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def _reset_matplotlib_dirs():
    """matplotlib memoized the zygote's config folder; point it at the kernel's MPLCONFIGDIR."""
    import matplotlib
    for function in (matplotlib.get_configdir, matplotlib.get_cachedir):
        cells = dict(zip(function.__code__.co_freevars, function.__closure__ or ()))
        if "called" in cells:
            cells["called"].cell_contents = False


def _become_kernel(request, log_fd):
    """Runs in the sandbox's namespaces as root; never returns."""
    code = 1
    try:
        # first of all, so that if anything below fails the waiter ends the sandbox at once
        with open(request["pid_fifo"], "w") as fifo:  # the waiter watches this process
            fifo.write(str(os.getpid()))
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        os.setsid()
        os.chdir(request["cwd"])
        _drop_privileges(request["uid"])
        _set_limits(request["limits"])
        os.environ.clear()
        os.environ.update(request["env"], PWD=request["cwd"])  # PWD: as bwrap's --chdir sets it
        # What a fresh interpreter would have drawn from the OS. (Python's own `random`
        # reseeds itself in a forked child; numpy's global generator does not.)
        import numpy.random
        numpy.random.seed(int.from_bytes(os.urandom(4), "little"))
        _reset_matplotlib_dirs()
        sys.path[0] = request["cwd"]  # as `python -m ipykernel_launcher` run there would have it
        sys.argv = ["ipykernel_launcher", *request["arguments"]]
        from ipykernel import kernelapp
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0
    except BaseException:  # noqa: BLE001 - the kernel log is where the instructor looks
        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(code)


def spawn(request):
    """Fork a kernel into the sandbox whose init has host pid request['target']."""
    ns_fds = [os.open(f"/proc/{request['target']}/ns/{name}", os.O_RDONLY) for name in _NAMESPACES]
    log_fd = os.open(request.get("log") or "/dev/null", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    status_read, status_write = os.pipe()  # the child lives on: its answer comes on a pipe
    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork() == 0:  # the kernel's parent: whatever happens, it must never return here
        code = 1
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(status_read)
            for fd in ns_fds:
                _check(_libc.setns(fd, 0), "joining the sandbox's namespaces")
            kernel = os.fork()
            if kernel == 0:
                os.close(status_write)
                _become_kernel(request, log_fd)
            os.write(status_write, b"ok")
            for fd in (*ns_fds, log_fd, status_write):
                os.close(fd)
            # Stay as the kernel's parent and reap it: an orphan would go to the host's init,
            # which in a container may never reap it, and a zombie counts against its uid.
            # A session of its own, so that killing the worker's process group (the
            # whole-notebook limit) leaves it to reap the kernel that the sandbox's end kills.
            os.setsid()
            os.waitpid(kernel, 0)
            code = 0
        except BaseException:  # noqa: BLE001
            try:
                os.write(status_write, traceback.format_exc().encode()[-2000:])
            except OSError:
                pass
        finally:
            os._exit(code)
    for fd in (*ns_fds, log_fd, status_write):
        os.close(fd)
    with os.fdopen(status_read, "rb") as status:
        answer = status.read().decode(errors="replace")
    if answer != "ok":
        raise RuntimeError(f"the kernel could not enter the sandbox: {answer.strip().splitlines()[-1:]}")


def _reap(*_):
    """SIGCHLD: collect the kernels' parents that have exited."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve():
    signal.signal(signal.SIGCHLD, _reap)
    _preload(sys.argv[1])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        try:
            spawn(json.loads(line))
            reply = {"ok": True}
        except Exception as problem:  # noqa: BLE001 - sent back to the worker, which reports it
            reply = {"ok": False, "error": f"{type(problem).__name__}: {problem}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    serve()

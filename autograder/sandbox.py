"""Run a student's notebook kernel in a sandbox, for grading.

The grader (nbgrader's Autograde, nbclient) stays a trusted process on the host; only the
IPython kernel that executes the student's code is sandboxed. ``SandboxedExecute`` takes
the place of nbgrader's ``Execute`` preprocessor; it starts the kernel with
``SandboxedKernelManager``, which wraps the kernel command as

    bwrap <filesystem view> --unshare-pid --unshare-net --unshare-ipc --unshare-uts
          --die-with-parent --new-session --clearenv ... --
      setpriv --reuid UID --regid UID --clear-groups --no-new-privs ... --
        prlimit --as=MEMORY --nproc=PROCESSES --fsize=FILE --core=0 --cpu=... --
          python -m ipykernel_launcher -f CONNECTION_FILE

Use (one worker per student, ``slot`` distinct among the workers running at once):

    pp = sandboxed_execute(SandboxLimits(cell_timeout_s=120, uid=61000 + slot),
                           scratch="<fresh empty folder for this student>",
                           runtime_root="<short folder of this worker, removed after it>")
    # in place of Execute in Autograde.autograde_preprocessors (nbconvert registers an
    # instance as is), or directly: pp.preprocess(nb, resources)

The choice: three small, audited tools from Debian rather than a container runtime.

* bubblewrap (Debian package ``bubblewrap``, the sandbox Flatpak uses) builds a new mount,
  PID, network, IPC and UTS namespace. It is started as root *without* a user namespace,
  so that the kernel can then run as a real unprivileged uid on the host. The filesystem
  view is an empty tmpfs root holding only: /usr and /etc read-only, the Python
  installation and the grader's virtual environment read-only at their own paths (their
  parent folders are created empty: /root or /work/main show nothing else), a private /proc and
  a minimal /dev, the student's scratch folder read-write at /home/student (the kernel's
  cwd, HOME and TMPDIR), and a per-kernel folder with the connection file and the
  kernel's unix sockets. Everything else of the host (the course repository with
  solutions/, the gradebook, nbgrader's autograded/ folder with the notebook and its
  hidden tests, other students' folders, /root, /tmp, /home, /run, /sys) is simply absent.
  Every mount is nosuid; bwrap sets no_new_privs.
* setpriv (util-linux) switches to that uid (``SandboxLimits.uid``; give each parallel
  worker its own, e.g. 61000 + slot), drops the supplementary groups and all
  capabilities (the uid change clears them; the bounding and inheritable sets are
  emptied as well).
* prlimit (util-linux) sets the rlimits: address space (memory), RLIMIT_NPROC (processes
  and threads of that uid, which is why the uid must be unprivileged and not shared
  between parallel workers), the size of any one written file, no core dumps, and a CPU
  time backstop equal to the whole-notebook limit.

Fork server (the default, ``SandboxedKernelManager.preload``): starting a fresh Python that
imports torch, numpy, matplotlib and ipykernel costs each student about 2.5 s of CPU. So
bwrap runs the same view, namespaces, uid and rlimits with a tiny waiter as its command,
and the worker's zygote (``autograder/zygote.py``, one root process per worker that has
imported those libraries once) forks the kernel into the sandbox: the child joins the
sandbox's namespaces with setns(2), as nsenter(1) does, and drops root and sets the limits
with the same system calls as setpriv and prlimit. Its docstring lists every step;
``tests/test_sandbox.py`` checks that a forked kernel has the ids, capabilities, file
descriptors, environment and fresh random state of a started one. A memory limit below
``PRELOAD_MIN_MEMORY`` cannot spare torch's address space: then the kernel starts fresh.

The network namespace has only a loopback interface of its own, so the kernel reaches
neither the internet nor the host's services (127.0.0.1 inside is not the host's).
The grader talks to the kernel over ZeroMQ's ``ipc`` transport (unix sockets in the
per-kernel folder, bound into the sandbox at the same path), which crosses the network
namespace. A cell that runs past ``cell_timeout_s`` is interrupted (an ``interrupt_request``
message: the kernel is not a direct child of the grader, so the usual SIGINT to the
process group would reach only bwrap) and gets nbgrader's ``CellTimeoutError`` output; the
next cells still run. The whole-notebook limit is the orchestrator's: it kills the worker's
process group; bwrap is started with PR_SET_PDEATHSIG (--die-with-parent), so the death of
the worker kills bwrap, and with it the sandbox's PID namespace, i.e. every process the
student started. A kernel that dies (os._exit, a signal, an out-of-memory kill) makes
nbclient raise ``DeadKernelError`` out of ``SandboxedExecute.preprocess``.

What it does NOT cover:

* CPU time is bounded only by the wall-clock limits (per cell, per notebook) plus the
  RLIMIT_CPU backstop; parallel workers share the host's cores, and a busy student slows
  the others. No cgroup is used (no CPU shares, no total-memory accounting).
* Memory is limited per process (RLIMIT_AS), not in total: up to ``max_processes``
  processes can each use ``memory_bytes``. RLIMIT_AS counts address space, not resident
  memory, so libraries that reserve large virtual ranges need headroom (torch imports
  under 4 GiB).
* Disk: ``max_file_bytes`` bounds each file, not the number of files or the total written
  to the scratch folder; put scratch on a size-limited filesystem if that matters.
* No seccomp filter: the kernel can make any system call an unprivileged process can make
  (the attack surface is the Linux kernel's own). /dev/shm is not writable (the private
  /dev is root's), so Python's multiprocessing locks and queues (e.g. torch DataLoader
  with num_workers > 0) do not work in the sandbox; plain os.fork/subprocess do.
* The kernel can read every world-readable file under /usr and /etc (package files, the
  list of users in /etc/passwd, ...) and the installed Python packages; nothing secret
  belongs there. No GPU or other device is exposed.
* Inside the kernel, the student's code and the tests share one interpreter, as in any
  nbgrader setup: code in a solution cell can read the source of cells executed before it
  (``In``, ``_ih``; the history database itself is in memory), monkeypatch what later test
  cells call, or print output that imitates a passing test. The sandbox protects the
  host, the gradebook and the hidden files, not the integrity of the grading inside one
  kernel: that is the checks cell's own guard and the signed record the grader verifies
  (``record_dir``, autograder/integrity.py).
* Timing side channels and the host's kernel version, CPU model (/proc/cpuinfo) etc.
  remain visible.
* Clean-up after a SIGKILLed worker: the sandboxed processes die with it, but the worker's
  per-kernel socket folder stays (give each worker its own ``runtime_root`` and remove it),
  and the scratch folder keeps what the student wrote. PR_SET_PDEATHSIG fires when the
  *thread* that started bwrap ends: start kernels from a thread that lives as long as the
  worker (nbclient's run_sync in the main thread does).
* It needs root (to start bwrap without a user namespace and to change uid) on Linux (5.3
  or later, for pidfds) with mount, PID and network namespaces available;
  ``sandbox_problem()`` says when not.
* A forked kernel starts with the modules in ``zygote.PRELOAD`` already imported (a
  student's ``import torch`` costs nothing), with the zygote's command line in
  /proc/self/cmdline, and without IPython's input-history database (also true of a
  started kernel here: the history writer thread would count against the process limit).
  Processes that die when a worker is killed are reaped by the host's init; a container
  whose init does not reap leaves (root-owned) zombies, as it does for bwrap itself.
"""
from __future__ import annotations

import asyncio
import atexit
import functools
import json
import os
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, Instance, Unicode, default

from . import integrity, zygote

__all__ = [
    "SANDBOX_HOME", "SandboxLimits", "SandboxedKernelManager", "SandboxedExecute",
    "sandboxed_execute", "sandbox_command", "prepare_scratch", "sandbox_problem",
]

GiB = 1024 ** 3
MiB = 1024 ** 2

#: Where the student's scratch folder appears inside the sandbox (cwd, HOME, TMPDIR).
SANDBOX_HOME = "/home/student"

#: A kernel forked from the zygote starts with torch's address space (about 0.7 GiB, and
#: each thread's malloc arena comes on top): below this memory limit it starts fresh.
PRELOAD_MIN_MEMORY = 3 * GiB

# A unix socket path must fit in sun_path (108 bytes with the NUL); ZeroMQ adds "-<port>".
_MAX_SOCKET_PREFIX = 90


@dataclass
class SandboxLimits:
    """Limits for one sandboxed kernel. ``uid`` must be distinct per parallel worker."""
    cell_timeout_s: int = 60
    notebook_timeout_s: int = 600
    memory_bytes: int = 4 * GiB
    max_processes: int = 256
    max_file_bytes: int = 100 * MiB
    uid: int = 61000


def kernel_environment(extra=None):
    """The kernel's whole environment inside the sandbox (nothing is inherited)."""
    env = {
        "HOME": SANDBOX_HOME,
        "TMPDIR": SANDBOX_HOME,
        "USER": "student",
        "LOGNAME": "student",
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8",
        "NBGRADER_EXECUTION": "autograde",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    env.update(extra or {})
    return env


def _python_dirs(python):
    """Host folders the kernel's interpreter needs: its installation and the venv."""
    dirs = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
            os.path.dirname(os.path.dirname(os.path.realpath(python)))}
    # The interpreter may be given as a venv's bin/python: include that venv.
    dirs.add(os.path.dirname(os.path.dirname(os.path.abspath(python))))
    return sorted(d for d in dirs if d and d != "/")


class _View:
    """bwrap arguments for a filesystem view; adds the ancestors of every mount point
    as world-traversable empty directories (bwrap's own would not be 0755)."""

    def __init__(self):
        self.args = []
        self.mounts = []   # mount points, in order
        self.dirs = set()

    def _covered(self, path):
        return any(path == m or path.startswith(m.rstrip("/") + "/") for m in self.mounts)

    def _ancestors(self, path):
        for parent in reversed(PurePosixPath(path).parents):
            p = str(parent)
            if p == "/" or p in self.dirs or self._covered(p):
                continue
            self.args += ["--perms", "0755", "--dir", p]
            self.dirs.add(p)

    def bind(self, src, dest=None, ro=True):
        dest = dest or src
        if self._covered(dest):
            return
        self._ancestors(dest)
        self.args += ["--ro-bind" if ro else "--bind", src, dest]
        self.mounts.append(dest)

    def dir(self, path, mode="0755"):
        self._ancestors(path)
        self.args += ["--perms", mode, "--dir", path]
        self.dirs.add(path)


def sandbox_command(argv, limits, scratch, runtime_dir=None, env=None, python=None, record_dir=None):
    """The full command running ``argv`` in the sandbox.

    ``scratch`` (host folder, owned by ``limits.uid``) appears read-write at SANDBOX_HOME,
    the cwd. ``runtime_dir`` (host folder, optional) is bound read-write at its own path.
    ``record_dir`` (host folder made by ``integrity.prepare``, optional) appears at
    ``integrity.MOUNT``: the checks' signed record (see autograder/integrity.py).
    ``env`` is the whole environment inside (default: ``kernel_environment()``).
    """
    python = python or sys.executable
    view = _View()
    view.bind("/usr")
    for name in ("lib", "lib32", "lib64", "libx32", "bin", "sbin"):
        target = os.path.join("/", name)
        if os.path.islink(target):
            view.args += ["--symlink", os.readlink(target), target]
    view.bind("/etc")
    for d in _python_dirs(python):
        if os.path.isdir(d):
            view.bind(d)
    view.dir("/tmp")  # empty and root-owned: not writable
    view.bind(os.path.abspath(scratch), SANDBOX_HOME, ro=False)
    if runtime_dir:
        view.bind(os.path.abspath(runtime_dir), ro=False)
    if record_dir:
        view.bind(os.path.abspath(record_dir), integrity.MOUNT, ro=False)
    cmd = ["bwrap", *view.args, "--proc", "/proc", "--dev", "/dev",
           "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
           "--unshare-cgroup-try", "--hostname", "sandbox",
           "--die-with-parent", "--new-session",
           "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP",
           "--chdir", SANDBOX_HOME, "--clearenv"]
    for key, value in (kernel_environment() if env is None else env).items():
        cmd += ["--setenv", key, value]
    uid = str(int(limits.uid))
    cmd += ["--", "setpriv", "--reuid", uid, "--regid", uid, "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
            "prlimit", *(f"--{option}={value}" for option, value in _prlimit_options(limits)), "--",
            *argv]
    return cmd


def _prlimit_options(limits):
    """(prlimit option, value): the rlimits of every process in the sandbox."""
    return [("as", int(limits.memory_bytes)), ("nproc", int(limits.max_processes)),
            ("fsize", int(limits.max_file_bytes)), ("core", 0),
            ("cpu", max(1, int(limits.notebook_timeout_s)))]


def rlimits(limits):
    """The same limits as {resource.RLIMIT_* name: value}, for a kernel forked by the zygote."""
    return {f"RLIMIT_{option.upper()}": value for option, value in _prlimit_options(limits)}


class _Zygote:
    """This process's fork server (autograder/zygote.py) for one Python, started on first use."""

    def __init__(self, python):
        self.python = python
        self.lock = threading.Lock()
        self.process = None
        self.folder = None
        atexit.register(self.close)

    def _start(self):
        self.folder = tempfile.mkdtemp(prefix="n2g-zygote-")
        errors = os.path.join(self.folder, "errors.log")
        with open(errors, "wb") as stderr:
            # the kernel's environment, so that the libraries set themselves up as in a kernel
            # (one thread each); -P: autograder/ is not put on the zygote's sys.path
            self.process = subprocess.Popen(
                [self.python, "-P", zygote.__file__, os.path.join(self.folder, "matplotlib")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, cwd="/",
                env=kernel_environment({"HOME": self.folder, "TMPDIR": self.folder}), text=True)
        if self.process.stdout.readline().strip() != '{"ready": true}':
            self.process.wait()
            self.process = None
            log = Path(errors).read_text(errors="replace")[-1500:]
            raise RuntimeError(f"the kernel fork server could not start: {log}")

    def spawn(self, request):
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self._start()
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            reply = json.loads(self.process.stdout.readline() or '{"ok": false, "error": "it died"}')
        if not reply["ok"]:
            raise RuntimeError(f"the kernel fork server failed: {reply['error']}")

    def close(self):
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


_zygotes = {}


def _zygote_for(python):
    if python not in _zygotes:
        _zygotes[python] = _Zygote(python)
    return _zygotes[python]


def _read_nonblocking(fd):
    """What a non-blocking fifo holds: b"" while no writer has written."""
    try:
        return os.read(fd, 16)
    except BlockingIOError:  # a writer has opened it, and not written yet
        return b""


def prepare_scratch(scratch, uid):
    """Create the scratch folder if needed and give it to ``uid`` (mode 0700)."""
    os.makedirs(scratch, exist_ok=True)
    os.chown(scratch, uid, uid)
    os.chmod(scratch, 0o700)
    return os.path.abspath(scratch)


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose IPython kernel runs in the sandbox (see module doc).

    Set ``scratch_dir`` (host folder, created and chowned to the uid if needed) and
    ``limits``. The kernel always is ``python -m ipykernel_launcher`` of ``kernel_python``
    (the grader's interpreter): a notebook's kernelspec cannot choose another command.
    """

    scratch_dir = Unicode("", help="host folder seen as the kernel's cwd").tag(config=True)
    limits = Instance(SandboxLimits, args=())
    kernel_python = Unicode(sys.executable).tag(config=True)
    runtime_root = Unicode(help="where per-kernel socket folders are made").tag(config=True)
    extra_env = Dict(help="more environment variables for the kernel").tag(config=True)
    record_dir = Unicode("", help="host folder for the checks' signed record (integrity.prepare)").tag(config=True)
    kernel_log = Unicode("", help="host file for the kernel's own stdout/stderr (bwrap's "
                         "errors, C-level writes); default: discarded").tag(config=True)
    preload = Bool(True, help="fork the kernel, torch already imported, from this process's zygote "
                   "(autograder/zygote.py) into the sandbox, rather than start a fresh "
                   "interpreter in it; only when limits.memory_bytes >= PRELOAD_MIN_MEMORY"
                   ).tag(config=True)
    startup_s = 60  # how long the sandbox may take to come up

    @default("runtime_root")
    def _default_runtime_root(self):
        return "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()

    @default("transport")
    def _default_transport(self):
        return "ipc"

    _runtime_dir = None

    def _make_runtime_dir(self):
        if self._runtime_dir and os.path.isdir(self._runtime_dir):
            return
        self._runtime_dir = tempfile.mkdtemp(prefix="n2g-kernel-", dir=self.runtime_root)
        os.chown(self._runtime_dir, self.limits.uid, self.limits.uid)
        os.chmod(self._runtime_dir, 0o700)
        self.connection_file = os.path.join(self._runtime_dir, "kernel.json")
        self.ip = os.path.join(self._runtime_dir, "k")
        if len(self.ip) > _MAX_SOCKET_PREFIX:
            raise RuntimeError(f"socket path {self.ip!r} is too long; set runtime_root shorter")

    async def _async_pre_start_kernel(self, **kw):
        problem = sandbox_problem()
        if problem:
            raise RuntimeError(problem)
        if not self.scratch_dir:
            raise ValueError("SandboxedKernelManager.scratch_dir is not set")
        if self.transport != "ipc":
            raise ValueError("the sandboxed kernel has no network: transport must be 'ipc'")
        prepare_scratch(self.scratch_dir, self.limits.uid)
        self._make_runtime_dir()
        # bwrap itself runs on the host: give it a neutral cwd and environment (the
        # kernel gets --chdir and --clearenv); never the notebook's own folder.
        kw["cwd"] = self._runtime_dir
        kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # The kernel's own stdout/stderr (not the cells' outputs, which come over ZeroMQ)
        # is written by the sandboxed process itself, hence bounded by max_file_bytes.
        if not self.kernel_log:
            kw["stdout"] = kw["stderr"] = subprocess.DEVNULL
            await super()._async_launch_kernel(kernel_cmd, **kw)
        else:
            with open(self.kernel_log, "ab") as log:
                kw["stdout"] = kw["stderr"] = log
                await super()._async_launch_kernel(kernel_cmd, **kw)
        self._sandbox_init = await self._watch_sandbox_init()
        if self._forked:
            await self._fork_kernel_into_sandbox()

    _sandbox_init = None  # (host pid, pidfd) of bwrap's child, the sandbox's init

    async def _watch_sandbox_init(self):
        bwrap = self.provisioner.process
        children = f"/proc/{bwrap.pid}/task/{bwrap.pid}/children"
        deadline = time.monotonic() + self.startup_s
        while bwrap.poll() is None and time.monotonic() < deadline:
            try:
                pid = int(open(children).read().split()[0])
                return pid, os.pidfd_open(pid)
            except (OSError, IndexError, ValueError):  # not cloned yet
                await asyncio.sleep(0.002)
        return None

    async def _wait_for_sandbox_teardown(self, timeout=60):
        """The sandbox's init exits only once every process of the sandbox is gone (killed and
        reaped). Wait for that, so that the next kernel of this uid does not start while the
        last one's processes still count against its process limit."""
        if not self._sandbox_init:
            return
        _, fd = self._sandbox_init
        self._sandbox_init = None
        try:
            await asyncio.get_running_loop().run_in_executor(None, select.select, [fd], [], [], timeout)
        finally:
            os.close(fd)

    def _fifo(self, name):
        path = os.path.join(self._runtime_dir, name)
        if os.path.lexists(path):  # a restart: a new kernel, new fifos
            os.unlink(path)
        os.mkfifo(path, 0o600)
        os.chown(path, self.limits.uid, self.limits.uid)
        return path

    async def _fork_kernel_into_sandbox(self):
        """Wait for the waiter (the sandbox is built), then have the zygote fork the kernel into it."""
        if not self._sandbox_init:
            raise RuntimeError("the sandbox did not start (bubblewrap's messages are in the kernel log)")
        ready = os.open(os.path.join(self._runtime_dir, "ready"), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        deadline = time.monotonic() + self.startup_s
        try:
            while not _read_nonblocking(ready):
                if self.provisioner.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start (bubblewrap's messages are in the kernel log)")
                await asyncio.sleep(0.002)
        finally:
            os.close(ready)
        request = {"target": self._sandbox_init[0],  # in all of the sandbox's namespaces
                   "uid": int(self.limits.uid), "cwd": SANDBOX_HOME,
                   "env": self._environment(), "limits": rlimits(self.limits),
                   "pid_fifo": os.path.join(self._runtime_dir, "kernel-pid"),
                   "arguments": self._kernel_arguments(), "log": self._forked_log()}
        await asyncio.get_running_loop().run_in_executor(None, _zygote_for(self.kernel_python).spawn, request)

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        os.chown(self.connection_file, self.limits.uid, self.limits.uid)

    def _kernel_arguments(self, extra_arguments=None):
        # No input history database: grading never reads it, and its writer thread would
        # count against the process limit (a kernel at its limit could not run a cell).
        return ["-f", self.connection_file, "--HistoryManager.enabled=False", *(extra_arguments or [])]

    @property
    def _forked(self):
        # the preloaded libraries take address space that a small memory limit cannot spare
        return self.preload and self.limits.memory_bytes >= PRELOAD_MIN_MEMORY

    def _environment(self):
        # IPython's profile and matplotlib's cache go to the per-kernel folder, so that the
        # scratch folder holds only what the student's code writes.
        record = {integrity.ENVIRONMENT: integrity.MOUNT} if self.record_dir else {}
        return kernel_environment({"IPYTHONDIR": os.path.join(self._runtime_dir, "ipython"),
                                   "MPLCONFIGDIR": os.path.join(self._runtime_dir, "matplotlib"),
                                   **record, **self.extra_env})

    def format_kernel_cmd(self, extra_arguments=None):
        if self._forked:
            # the sandbox runs the waiter; the kernel is forked into it (_fork_kernel_into_sandbox)
            argv = [self.kernel_python, "-S", "-c", zygote.WAITER, self._fifo("ready"), self._fifo("kernel-pid")]
        else:
            argv = [self.kernel_python, "-m", "ipykernel_launcher", *self._kernel_arguments(extra_arguments)]
        return sandbox_command(argv, self.limits, self.scratch_dir, self._runtime_dir,
                               env=self._environment(), python=self.kernel_python,
                               record_dir=self.record_dir or None)

    async def interrupt_kernel(self):
        """Interrupt with a message on the control channel: ipykernel then sends SIGINT to
        itself. (A signal from here would reach bwrap, not the kernel.)"""
        if self.has_kernel:
            msg = self.session.msg("interrupt_request", content={})
            self._connect_control_socket()
            self.session.send(self._control_socket, msg)

    _async_interrupt_kernel = interrupt_kernel

    def _forked_log(self):
        """Where the forked kernel writes its own output: the per-kernel folder, not
        kernel_log, so that the zygote (whose memory every later kernel inherits) never
        learns a path that names the student."""
        return os.path.join(self._runtime_dir, "kernel-output.log") if self.kernel_log else ""

    def _keep_forked_log(self):
        if not (self.kernel_log and self._runtime_dir):
            return
        try:
            # The student's code could have put a symlink to any host file in its place:
            # never follow one, read only a plain file.
            fd = os.open(self._forked_log(), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:  # no forked kernel (the exec path), or the student's code removed it
            return
        with os.fdopen(fd, "rb") as output:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return
            output.seek(max(0, info.st_size - MiB))  # its last MiB is plenty
            tail = output.read()
        os.unlink(self._forked_log())  # a restarted kernel appends anew
        with open(self.kernel_log, "ab") as log:
            log.write(tail)

    async def cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        await self._wait_for_sandbox_teardown()
        self._keep_forked_log()
        if not restart and self._runtime_dir:
            shutil.rmtree(self._runtime_dir, ignore_errors=True)
            self._runtime_dir = None

    _async_cleanup_resources = cleanup_resources


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel in the sandbox.

    ``timeout`` (per cell) is always ``limits.cell_timeout_s``; on timeout the kernel is
    interrupted and the cell gets nbgrader's CellTimeoutError output, as with Execute.
    A kernel that dies raises nbclient's DeadKernelError out of ``preprocess``.
    """

    scratch_dir = Unicode("", help="host folder seen as the kernel's cwd").tag(config=True)
    limits = Instance(SandboxLimits, args=())
    extra_env = Dict(help="more environment variables for the kernel").tag(config=True)
    kernel_log = Unicode("", help="host file for the kernel's own stdout/stderr").tag(config=True)
    record_dir = Unicode("", help="host folder for the checks' signed record of the next notebook "
                         "(integrity.prepare); empty: none").tag(config=True)
    runtime_root = Unicode("", help="host folder for the per-kernel socket folders "
                           "(default /tmp); keep the path short (unix socket paths)").tag(config=True)
    kernel_name = Unicode("python3")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def create_kernel_manager(self):
        # Config reloads (nbconvert re-runs __init__ in preprocess) must not change the
        # per-cell limit; and the notebook's kernelspec is not trusted.
        self.timeout = int(self.limits.cell_timeout_s)
        self.kernel_name = "python3"
        extra = {"runtime_root": self.runtime_root} if self.runtime_root else {}
        self.km = SandboxedKernelManager(
            kernel_name="python3", config=self.config, scratch_dir=self.scratch_dir,
            limits=self.limits, extra_env=dict(self.extra_env), kernel_log=self.kernel_log,
            record_dir=self.record_dir, **extra)
        return self.km


def sandboxed_execute(limits, scratch, **traits):
    """A configured SandboxedExecute instance, to put in
    ``Autograde.autograde_preprocessors`` in place of ``Execute`` (nbconvert registers an
    instance as is). ``scratch``: the student's host folder, created if missing and given
    to ``limits.uid`` (not emptied: pass a fresh one). Optional ``traits``: runtime_root,
    kernel_log, extra_env, config, and any of Execute's (but ``timeout`` always is
    ``limits.cell_timeout_s``)."""
    traits.setdefault("timeout", int(limits.cell_timeout_s))
    return SandboxedExecute(limits=limits, scratch_dir=os.path.abspath(scratch), **traits)


@functools.lru_cache(maxsize=None)
def sandbox_problem():
    """None if the sandbox can run here, else a sentence saying why not and what to do."""
    if not sys.platform.startswith("linux"):
        return "The grading sandbox needs Linux (bubblewrap namespaces); grade on a Linux machine."
    if shutil.which("bwrap") is None:
        return ("bubblewrap is not installed (no bwrap command): run "
                "`apt-get install bubblewrap` (the project's set-up does).")
    for tool in ("setpriv", "prlimit"):
        if shutil.which(tool) is None:
            return (f"the {tool} command is missing: run `apt-get install util-linux`.")
    if os.geteuid() != 0:
        return ("the grader must run as root: it starts bubblewrap without a user namespace "
                "so that student code runs as a separate unprivileged uid (the process limit "
                "does not apply to root, and an unprivileged user namespace could not switch "
                "uid). Run it as root, e.g. with sudo or in the CI container.")
    uid = SandboxLimits().uid
    with tempfile.TemporaryDirectory(prefix="n2g-probe-") as tmp:
        scratch = prepare_scratch(os.path.join(tmp, "scratch"), uid)
        cmd = sandbox_command([sys.executable, "-c", "import os; print(os.getuid())"],
                              SandboxLimits(), scratch)
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"bubblewrap could not be run ({e})."
    if out.returncode != 0 or out.stdout.strip() != str(uid):
        err = (out.stderr.strip().splitlines() or ["no message"])[-1]
        return (f"bubblewrap cannot create the sandbox here ({err}). Mount, PID and network "
                "namespaces must be available to root: in a Docker container, run it with "
                "--privileged (or with seccomp and AppArmor unconfined and CAP_SYS_ADMIN).")
    return None

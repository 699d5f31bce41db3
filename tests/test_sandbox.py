"""The grading sandbox (autograder/sandbox.py): student code run through SandboxedExecute
must stay within its limits and its view of the filesystem, and leave nothing behind.

Skipped, with the reason, only where the sandbox cannot run (not root, no bubblewrap, no
namespaces); with CI or N2G_REQUIRE_SANDBOX set in the environment that is a failure.
Each test uses its own uid, so that tests running in parallel (pytest -n) do not share a
process count, and "no process left" can be checked per uid.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from autograder.sandbox import (PRELOAD_MIN_MEMORY, SANDBOX_HOME, MiB, GiB, SandboxLimits,
                                sandbox_problem, sandboxed_execute)

REPO = Path(__file__).resolve().parent.parent
PROBLEM = sandbox_problem()
if PROBLEM and (os.environ.get("CI") or os.environ.get("N2G_REQUIRE_SANDBOX")):
    raise RuntimeError(f"the grading sandbox must run in CI, but: {PROBLEM}")
pytestmark = pytest.mark.skipif(PROBLEM is not None, reason=f"sandbox unavailable: {PROBLEM}")

# uids for the tests, away from the grader's default 61000 + slot
UID = {"probe": 61901, "limits": 61902, "flood": 61903, "kill9": 61904, "exit": 61905,
       "worker": 61906, "forked": 61907, "fresh": 61908, "symlink": 61909}


def processes_of(uid):
    """pids of the live processes whose real uid is ``uid``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                pids.append(int(entry))
    return pids


def bwrap_processes(marker):
    """pids of the bwrap processes whose command line mentions ``marker``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"bwrap") and any(marker.encode() in a for a in cmd):
                pids.append(int(entry))
    return pids


def assert_nothing_left(uid, scratch, within=5.0):
    deadline = time.monotonic() + within
    while (processes_of(uid) or bwrap_processes(str(scratch))) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_of(uid), f"processes of the sandbox uid {uid} survived: {processes_of(uid)}"
    assert not bwrap_processes(str(scratch)), "a bwrap process survived the kernel"


def run(cells, limits, scratch, tmp_path, config=None, **traits):
    """Execute code cells with SandboxedExecute, from a folder that also holds the
    notebook file (as nbgrader's autograded/ folder does); returns (notebook, seconds)."""
    nb = new_notebook(cells=[new_code_cell(textwrap.dedent(c)) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook_dir = tmp_path / "autograded" / "student" / "assignment"
    notebook_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(notebook_dir / "assignment.ipynb"))
    pp = sandboxed_execute(limits, scratch, **({"config": config} if config else {}), **traits)
    start = time.monotonic()
    try:
        pp.preprocess(nb, {"metadata": {"path": str(notebook_dir)}})
    finally:
        elapsed = time.monotonic() - start
        print(f"executed in {elapsed:.1f} s")
    return nb, elapsed


def text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def errors(cell):
    return [o.ename for o in cell.outputs if o.output_type == "error"]


# --- one kernel probes the filesystem view, the network and its own identity ----------

PROBES = r'''
import json, os, socket
def probe(name, fn):
    try:
        result = fn()
        print(json.dumps([name, "allowed", repr(result)[:300]]))
    except BaseException as e:
        print(json.dumps([name, "blocked", f"{type(e).__name__}: {e}"[:300]]))
def read(path):
    if os.path.isdir(path):
        return os.listdir(path)
    with open(path, "rb") as f:
        return f.read(100)
def write(path):
    with open(path, "w") as f:
        f.write("escaped")
    return path
def connect(host, port):
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect((host, port))
    finally:
        s.close()
'''


READS = ["solutions", "repo_config", "gradebook", "other_student", "other_student_dir",
         "notebook_with_hidden_tests", "root_home_file", "shadow"]
WRITES = ["tmp", "repo", "etc", "usr", "venv", "home", "other_student", "gradebook", "dev_shm"]


def test_student_code_runs_but_cannot_escape(tmp_path):
    """One kernel (one run: this is the slow part) runs normal cells, imports torch, and
    probes the filesystem view, the network and its own privileges."""
    uid = UID["probe"]
    scratch = tmp_path / "scratch" / "alice"
    other = tmp_path / "scratch" / "bob"
    other.mkdir(parents=True)
    (other / "answers.py").write_text("secret = 42\n")
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_text("fake gradebook")
    server = socket.socket()  # a service of the host, on its loopback
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    reads = {
        "solutions": str(REPO / "solutions"),
        "repo_config": str(REPO / "autograder" / "nbgrader_config.py"),
        "gradebook": str(gradebook),
        "other_student": str(other / "answers.py"),
        "other_student_dir": str(other),
        "notebook_with_hidden_tests": str(tmp_path / "autograded" / "student" / "assignment" / "assignment.ipynb"),
        "root_home_file": "/root/.bashrc",
        "shadow": "/etc/shadow",
    }
    writes = {"tmp": "/tmp/x", "repo": str(REPO / "x"), "etc": "/etc/x", "usr": "/usr/x",
              "venv": os.path.join(sys.prefix, "x"), "home": "/home/x", "other_student": str(other / "x"),
              "gradebook": str(gradebook), "dev_shm": "/dev/shm/x"}
    cells = [
        PROBES,
        "import os, sys, torch\nprint(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(), "
        "'cwd': os.getcwd(), 'home': os.environ['HOME'], 'listing': os.listdir('.'), 'torch': torch.__version__, "
        "'tensor': float(torch.ones(3).sum()), 'env': {k: os.environ.get(k) for k in ('NBGRADER_EXECUTION', "
        "'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'PYTHONDONTWRITEBYTECODE', 'MPLBACKEND')}, "
        "'root_listing': os.listdir('/root') if os.path.isdir('/root') else None, "
        "'pids': [p for p in os.listdir('/proc') if p.isdigit()], "
        "'caps': [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]}))",
        *[f"probe('read_{name}', lambda: read({path!r}))" for name, path in reads.items()],
        "probe('internet', lambda: connect('1.1.1.1', 443))",
        f"probe('host_loopback', lambda: connect('127.0.0.1', {port}))",
        "probe('become_root', lambda: os.setuid(0))",
        *[f"probe('write_{name}', lambda: write({path!r}))" for name, path in writes.items()],
        "probe('write_cwd', lambda: write('result.txt'))",
    ]
    limits = SandboxLimits(cell_timeout_s=60, uid=uid)
    try:
        nb, elapsed = run(cells, limits, scratch, tmp_path)
    finally:
        server.close()
    print(f"probe notebook ({len(nb.cells)} cells, torch import) ran in {elapsed:.1f} s")
    results = {}
    for cell in nb.cells[2:]:
        for line in text(cell).splitlines():
            name, outcome, detail = json.loads(line)
            results[name] = (outcome, detail)
            print(f"  {name:34s} {outcome:8s} {detail[:110]}")

    # normal cells run, as the unprivileged uid, in the empty scratch folder
    for cell in nb.cells[:2]:
        assert not errors(cell), f"a normal cell failed in the sandbox: {cell.outputs}"
    info = json.loads(text(nb.cells[1]))
    assert info["torch"] and info["tensor"] == 3.0, "torch did not import and compute"
    assert info["uid"] == uid and info["gid"] == uid, f"the kernel runs as uid {info['uid']}, not {uid}"
    assert info["groups"] in ([], [uid]), f"supplementary groups kept: {info['groups']}"
    assert int(info["caps"], 16) == 0, f"the kernel has capabilities {info['caps']}"
    assert info["cwd"] == SANDBOX_HOME and info["home"] == SANDBOX_HOME, "cwd/HOME is not the scratch folder"
    assert info["listing"] == [], f"the scratch folder did not start empty: {info['listing']}"
    assert info["env"] == {"NBGRADER_EXECUTION": "autograde", "OMP_NUM_THREADS": "1",
                           "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
                           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}, info["env"]
    assert len(info["pids"]) < 10, f"the kernel sees the host's processes: {len(info['pids'])} pids"
    python_homes = {Path(p).parts[2] for p in {sys.prefix, sys.base_prefix}
                    if Path(p).parts[1:2] == ("root",) and len(Path(p).parts) > 2}
    assert info["root_listing"] is None or set(info["root_listing"]) <= python_homes, \
        f"/root shows more than the Python installation: {info['root_listing']}"

    # nothing private can be read, nothing outside scratch written, no network, no root
    assert set(results) == {f"read_{n}" for n in READS} | {f"write_{n}" for n in WRITES} | {
        "internet", "host_loopback", "become_root", "write_cwd"}, "some probes did not report"
    escapes = {name: detail for name, (outcome, detail) in results.items()
               if outcome != "blocked" and name != "write_cwd"}
    assert not escapes, f"the student's code got out of the sandbox: {escapes}"
    odd = {name: detail for name, (outcome, detail) in results.items() if name.startswith("read_")
           and not detail.startswith(("FileNotFoundError", "PermissionError"))}
    assert not odd, f"reads failed for another reason than absence or permission: {odd}"
    assert results["internet"][1].startswith("OSError: [Errno 101]"), results["internet"]
    assert results["host_loopback"][1].startswith("ConnectionRefusedError"), results["host_loopback"]
    assert not accepted, "the host's loopback service accepted a connection from the kernel"
    assert not (other / "x").exists() and gradebook.read_text() == "fake gradebook"
    assert not (REPO / "x").exists()
    assert results["write_cwd"][0] == "allowed", f"the kernel cannot write its scratch: {results['write_cwd']}"
    written = scratch / "result.txt"
    assert written.read_text() == "escaped", "the file written in cwd is not in the host's scratch folder"
    assert written.stat().st_uid == uid

    # and the kernel left nothing behind
    assert_nothing_left(uid, scratch)
    leftovers = [p for p in Path("/tmp").glob("n2g-kernel-*") if p.stat().st_uid == uid]
    assert not leftovers, f"the kernel's socket folder was not removed: {leftovers}"


# --- kernels forked from the zygote (autograder/zygote.py) -------------------------------

FRESHNESS = r"""
import json, os, random, sys
preloaded = 'torch' in sys.modules  # before this notebook imported anything
import numpy as np, matplotlib
status = dict(line.split(':', 1) for line in open('/proc/self/status'))
fds = {}
for fd in os.listdir('/proc/self/fd'):
    try:
        fds[fd] = os.readlink(f'/proc/self/fd/{fd}')
    except OSError:
        pass  # the listing's own descriptor
print(json.dumps({
    'preloaded': preloaded, 'numpy': float(np.random.rand()), 'random': random.random(),
    'caps': {k: status[k].strip() for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')},
    'no_new_privs': status['NoNewPrivs'].strip(), 'env': sorted(os.environ), 'fds': fds,
    'ids': [os.getresuid(), os.getresgid(), os.getgroups()], 'session_leader': os.getsid(0) == os.getpid(),
    'mpl_cache': matplotlib.get_cachedir(), 'sys_path0': sys.path[0], 'cwd': os.getcwd(),
}))
"""


def kernel_report(tmp_path, name, limits, config=None):
    log = tmp_path / f"{name}.log"
    nb, _ = run([FRESHNESS], limits, tmp_path / name, tmp_path, config=config, kernel_log=str(log))
    assert "To connect another client to this kernel" in log.read_text(), \
        f"the kernel's own output did not reach its log: {log.read_text()[-300:]!r}"
    assert not errors(nb.cells[0]), nb.cells[0].outputs
    assert_nothing_left(limits.uid, tmp_path / name)
    return json.loads(text(nb.cells[0]))


def test_forked_kernels_are_as_fresh_and_confined_as_a_started_one(tmp_path):
    """Two kernels forked from the zygote, and one started the plain way: the forked ones
    come with torch imported, and otherwise look like the started one from the inside."""
    limits = SandboxLimits(cell_timeout_s=60, uid=UID["forked"], memory_bytes=PRELOAD_MIN_MEMORY)
    first = kernel_report(tmp_path, "first", limits)
    second = kernel_report(tmp_path, "second", limits)
    started = kernel_report(tmp_path, "started", SandboxLimits(cell_timeout_s=60, uid=UID["fresh"]),
                            config=Config({"SandboxedKernelManager": {"preload": False}}))
    assert first["preloaded"] and second["preloaded"], "the kernel was not forked from the zygote"
    assert not started["preloaded"], "preload=False still forked the kernel"
    assert first["numpy"] != second["numpy"] and first["random"] != second["random"], \
        "two forked kernels draw the same random numbers: the zygote's generator state was not reseeded"
    uid = UID["forked"]
    for report in (first, second):
        assert report["ids"] == [[uid] * 3, [uid] * 3, []], f"the kernel kept other ids: {report['ids']}"
        assert set(report["caps"].values()) == {"0000000000000000"}, f"capabilities left: {report['caps']}"
        assert report["no_new_privs"] == "1", "no_new_privs is not set"
        assert report["session_leader"], "the kernel shares the grader's session"
        assert report["env"] == started["env"], \
            f"the environment differs from a started kernel's: {set(report['env']) ^ set(started['env'])}"
        # the kernel's own output goes to a file in its per-kernel folder, which the sandbox shows
        inherited = {fd: target for fd, target in report["fds"].items()
                     if not target.startswith(("socket:", "pipe:", "anon_inode:", "/dev/null"))
                     and not target.startswith(report["mpl_cache"].rsplit("/", 1)[0] + "/")}
        assert not inherited, f"the kernel holds files opened outside the sandbox: {inherited}"
        assert report["mpl_cache"].endswith("/matplotlib") and "n2g-kernel-" in report["mpl_cache"], \
            f"matplotlib still uses the zygote's folder: {report['mpl_cache']}"
        assert report["sys_path0"] == report["cwd"] == SANDBOX_HOME, (report["sys_path0"], report["cwd"])


def test_the_grader_never_follows_a_students_symlink_out_of_the_sandbox(tmp_path):
    """The forked kernel's output file lies in a folder the student can write: replaced by a
    symlink to a host file, it must not bring that file into the student's kernel log."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    log = tmp_path / "kernel.log"
    limits = SandboxLimits(cell_timeout_s=60, uid=UID["symlink"])
    cells = ["import os\n"
             "output = os.path.join(os.path.dirname(os.environ['MPLCONFIGDIR']), 'kernel-output.log')\n"
             f"os.unlink(output)\nos.symlink({str(secret)!r}, output)\nprint('replaced')"]
    nb, _ = run(cells, limits, tmp_path / "scratch", tmp_path, kernel_log=str(log))
    assert text(nb.cells[0]) == "replaced\n", nb.cells[0].outputs
    assert "TOP SECRET" not in (log.read_text() if log.exists() else ""), \
        "the grader followed the student's symlink and copied a host file into the kernel log"
    assert_nothing_left(limits.uid, tmp_path / "scratch")


# --- limits ------------------------------------------------------------------------------

def test_limits_time_memory_processes_file_size(tmp_path):
    """Cells break each limit in turn; each gets its error and the next cells still run."""
    limits = SandboxLimits(cell_timeout_s=5, memory_bytes=1 * GiB, max_processes=48,
                           max_file_bytes=10 * MiB, uid=UID["limits"])
    scratch = tmp_path / "scratch"
    cells = [
        "while True:\n    pass",                                          # 0 timeout
        "print('after the loop')",                                        # 1
        "buffer = bytearray(int(8e9))",                                   # 2 one huge allocation
        "chunks = []\nwhile True:\n    chunks.append(bytearray(50_000_000))",  # 3 growing memory
        "del chunks\nprint('after the memory bombs')",                    # 4
        """
        import os, time
        children = []
        try:
            while True:
                pid = os.fork()
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                children.append(pid)
        except OSError as e:
            print('fork stopped after', len(children), type(e).__name__)
        finally:
            for pid in children:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
        """,                                                              # 5 fork loop
        """
        import subprocess
        procs = []
        try:
            while True:
                procs.append(subprocess.Popen(['sleep', '60']))
        except OSError as e:
            print('spawn stopped after', len(procs), type(e).__name__)
        finally:
            for p in procs:
                p.kill()
                p.wait()
        """,                                                              # 6 spawn loop
        "print('cleaned up')",                                            # 7
        "with open('big.bin', 'wb') as f:\n    f.write(b'0' * 20 * 1024 * 1024)",  # 8 too big a file
        "with open('small.bin', 'wb') as f:\n    f.write(b'0' * 1024 * 1024)\nprint('small file ok')",  # 9
        "while True:\n    os.fork()",                                     # 10 fork bomb proper
        "print('after the fork bomb')",                                   # 11
    ]
    # nbgrader_config.py's Execute.timeout must not override the sandbox's cell limit
    config = Config({"Execute": {"timeout": 120}, "SandboxedExecute": {"timeout": 120}})
    nb, elapsed = run(cells, limits, scratch, tmp_path, config=config)
    c = nb.cells
    assert "CellTimeoutError" in errors(c[0]), f"the infinite loop was not stopped: {c[0].outputs}"
    assert text(c[1]) == "after the loop\n", f"the kernel did not recover from the timeout: {c[1].outputs}"
    assert errors(c[2]) == ["MemoryError"], f"bytearray(8e9) was not refused: {c[2].outputs}"
    assert errors(c[3]) == ["MemoryError"], f"growing memory was not stopped: {c[3].outputs}"
    assert text(c[4]) == "after the memory bombs\n", c[4].outputs
    forked = text(c[5]).split()
    assert forked[:3] == ["fork", "stopped", "after"] and 0 < int(forked[3]) < limits.max_processes \
        and forked[4] == "BlockingIOError", f"the fork loop was not stopped by the process limit: {c[5].outputs}"
    spawned = text(c[6]).split()
    assert spawned[:3] == ["spawn", "stopped", "after"] and 0 < int(spawned[3]) < limits.max_processes, \
        f"the spawn loop was not stopped by the process limit: {c[6].outputs}"
    assert text(c[7]) == "cleaned up\n", c[7].outputs
    assert errors(c[8]) == ["OSError"] and "File too large" in str(c[8].outputs), \
        f"a 20 MB file was written despite max_file_bytes = 10 MiB: {c[8].outputs}"
    assert (scratch / "big.bin").stat().st_size <= limits.max_file_bytes
    assert text(c[9]) == "small file ok\n", c[9].outputs
    assert errors(c[10]), f"the fork bomb ended without error: {c[10].outputs}"
    # after a real fork bomb the kernel's children also run the cell's loop; the kernel
    # itself may answer or not, but the grader carries on and cleans up
    assert_nothing_left(limits.uid, scratch)
    print(f"limits notebook ran in {elapsed:.1f} s; fork loop {forked[3]}, spawn loop {spawned[3]} "
          f"processes; fork bomb cell: {errors(c[10])}; last cell: {c[11].outputs}")
    assert elapsed < 60


def test_huge_output_is_bounded(tmp_path):
    """100 MB printed to stdout: stopped by the cell timeout or delivered; the grader survives."""
    limits = SandboxLimits(cell_timeout_s=5, uid=UID["flood"])
    scratch = tmp_path / "scratch"
    cells = ["line = 'x' * 99 + '\\n'\nfor _ in range(1_000_000):\n    print(line, end='')",
             "print('after the flood')"]
    nb, elapsed = run(cells, limits, scratch, tmp_path)
    size = len(text(nb.cells[0]))
    print(f"100 MB print: {size / 1e6:.1f} MB reached the notebook, errors {errors(nb.cells[0])}, "
          f"{elapsed:.1f} s")
    assert size == 100_000_000 or "CellTimeoutError" in errors(nb.cells[0]), \
        f"the output was cut without a timeout: {size} bytes"
    assert text(nb.cells[1]) == "after the flood\n", nb.cells[1].outputs
    assert elapsed < 3 * limits.cell_timeout_s + 15
    assert_nothing_left(limits.uid, scratch)


@pytest.mark.parametrize("how,uid", [("os.kill(os.getpid(), 9)", UID["kill9"]), ("os._exit(1)", UID["exit"])])
def test_a_dying_kernel_is_reported_and_leaves_nothing(tmp_path, how, uid):
    limits = SandboxLimits(cell_timeout_s=5, uid=uid)
    scratch = tmp_path / "scratch"
    start = time.monotonic()
    with pytest.raises(DeadKernelError):
        run(["print('alive')", f"import os\n{how}", "print('never')"], limits, scratch, tmp_path)
    elapsed = time.monotonic() - start
    print(f"{how}: DeadKernelError after {elapsed:.1f} s")
    assert elapsed < 30, f"the dead kernel was noticed only after {elapsed:.0f} s"
    assert_nothing_left(uid, scratch)


WORKER = """
import sys, nbformat
from nbformat.v4 import new_code_cell, new_notebook
from autograder.sandbox import SandboxLimits, sandboxed_execute
nb = new_notebook(cells=[new_code_cell("import os\\nos.fork(); os.fork()\\nwhile True: pass")])
pp = sandboxed_execute(SandboxLimits(cell_timeout_s=300, uid=int(sys.argv[2])), sys.argv[1],
                       runtime_root=sys.argv[3])
pp.preprocess(nb, {})
"""


def test_killing_the_worker_kills_the_sandbox(tmp_path):
    """The orchestrator's whole-notebook limit kills the worker's process group: no
    sandboxed process may outlive it."""
    uid = UID["worker"]
    scratch = tmp_path / "scratch"
    # a killed worker cannot remove its kernel's socket folder: the orchestrator gives each
    # worker a runtime_root of its own and removes it
    runtime_root = tempfile.mkdtemp(prefix="n2g-rt-")
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(scratch), str(uid), runtime_root],
                              cwd=REPO, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(processes_of(uid)) < 4 and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker exited before its kernel was busy"
            time.sleep(0.2)
        assert len(processes_of(uid)) >= 4, "the worker's sandboxed kernel never got busy"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    try:
        assert_nothing_left(uid, scratch)
    finally:
        shutil.rmtree(runtime_root, ignore_errors=True)


def test_sandbox_problem_explains_what_is_missing(monkeypatch):
    from autograder import sandbox
    check = sandbox.sandbox_problem.__wrapped__
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "bwrap" else which(name))
    assert "apt-get install bubblewrap" in check()
    monkeypatch.setattr(shutil, "which", which)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "root" in check()

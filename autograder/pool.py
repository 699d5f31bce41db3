"""A few long-lived worker processes, each grading one student at a time under a time limit.

A worker that overruns the whole-notebook limit is killed with everything it started
(the sandboxed kernel dies with its parent) and replaced; the others carry on.
"""
import multiprocessing
import os
import queue
import signal
import threading


def _serve(connection, target):
    os.setsid()  # its own process group, so that a kill takes its children too
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        connection.send(target(job))


class Slot:
    def __init__(self, index, target):
        self.index = index
        self.target = target
        self.process = None

    def _start(self):
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, self.target), daemon=True)
        self.process.start()
        child.close()

    def run(self, job, timeout):
        """('done', result), ('timeout', None) or ('died', exit code)."""
        if self.process is None or not self.process.is_alive():
            self._start()
        self.connection.send(job)
        try:
            if self.connection.poll(timeout):
                return "done", self.connection.recv()
        except (EOFError, ConnectionError, OSError):
            pass
        died = not self.process.is_alive()
        code = self.process.exitcode
        self.kill()
        return ("died", code) if died else ("timeout", None)

    def kill(self):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.join(timeout=10)
        self.process = None

    def close(self):
        if self.process is not None and self.process.is_alive():
            try:
                self.connection.send(None)
            except OSError:
                pass
            self.process.join(timeout=5)
        self.kill()


def run_jobs(jobs, target, workers, timeout, on_result, make_job_for_slot):
    """Run `target(make_job_for_slot(job, slot))` for every job on `workers` processes.

    `on_result(job, outcome, value)` is called on the caller's thread, in completion order.
    """
    pending = queue.Queue()
    for job in jobs:
        pending.put(job)
    finished = queue.Queue()

    def work(slot):
        while True:
            try:
                job = pending.get_nowait()
            except queue.Empty:
                break
            outcome, value = slot.run(make_job_for_slot(job, slot.index), timeout)
            finished.put((job, outcome, value))
        slot.close()

    slots = [Slot(i, target) for i in range(workers)]
    threads = [threading.Thread(target=work, args=(s,), daemon=True) for s in slots]
    for t in threads:
        t.start()
    for _ in range(len(jobs)):
        on_result(*finished.get())
    for t in threads:
        t.join()

"""Grade one student: repair, review, then a real nbgrader autograde in a private course copy.

Runs in a worker process. Each student gets a private copy of the assignment's
student-free gradebook, so parallel workers never share a database; the parent merges
the autograded notebooks into the real gradebook one at a time (see grade.py).
"""
import os
import re
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader import utils as nbutils
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, LimitOutput, NbGraderPreprocessor

from . import exploits, integrity, repair
from .gradebook import course_config


@dataclass
class Job:
    student: str
    assignment: str
    notebooks: dict            # notebook name -> raw bytes as submitted (absent: not submitted)
    timestamp: str | None      # when it was submitted, if the LMS said
    course_root: str           # the run's course folder (released notebooks, template gradebook)
    work_root: str             # private folder for this student, deleted by the parent
    slot: int                  # which worker runs it: picks the sandbox user
    cell_timeout: int = 60
    notebook_timeout: int = 600
    memory_bytes: int = 8 << 30
    max_processes: int = 256
    sandbox: bool = True
    # {notebook: {grade_id: [check, ...]}} from the model solution's run; None: this is that run
    reference: dict | None = None


@dataclass
class NotebookResult:
    cells: list = field(default_factory=list)  # [{grade_id, points, max_points, message}]
    autograded: str | None = None              # path of the autograded notebook


@dataclass
class Result:
    student: str
    notebooks: dict = field(default_factory=dict)  # name -> NotebookResult
    repairs: list = field(default_factory=list)
    flags: list = field(default_factory=list)     # the record of the checks says: do not trust all points
    hints: list = field(default_factory=list)     # the static review: code an instructor may want to read
    checks_run: dict = field(default_factory=dict)  # the reference run: {notebook: {grade_id: [check]}}
    invalid: list = field(default_factory=list)
    crashed: str | None = None
    timed_out_cells: list = field(default_factory=list)
    notebook_timeout: bool = False
    seconds: float = 0.0          # all of this student's grading in the worker
    execute_seconds: float = 0.0  # of which running the notebook's cells


class LimitOutputSize(NbGraderPreprocessor):
    """Cap each output's text. nbgrader's LimitOutput counts lines, so one 100 MB line passes it."""
    max_chars = 100_000

    def preprocess_cell(self, cell, resources, index):
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and len(out.text) > self.max_chars:
                out.text = out.text[:self.max_chars] + f"\n... output truncated to {self.max_chars} characters ...\n"
            for mime, data in list(out.get("data", {}).items()):
                if isinstance(data, str) and len(data) > self.max_chars:
                    out.data[mime] = data[:self.max_chars] + "\n... truncated ..."
        return cell, resources


def execute_preprocessor(job, scratch):
    """The preprocessor that runs the student's code: sandboxed unless the instructor opted out."""
    if not job.sandbox:
        return Execute(timeout=job.cell_timeout)
    from .sandbox import SandboxLimits, sandboxed_execute
    limits = SandboxLimits(cell_timeout_s=job.cell_timeout, notebook_timeout_s=job.notebook_timeout,
                           memory_bytes=job.memory_bytes, max_processes=job.max_processes,
                           uid=61000 + job.slot)  # one uid per worker: the process limit counts per uid
    # unix socket paths must stay short, so the kernel's sockets live under /tmp
    runtime_root = f"/tmp/n2g-w{job.slot}"
    os.makedirs(runtime_root, exist_ok=True)
    return sandboxed_execute(limits, scratch, runtime_root=runtime_root,
                             kernel_log=str(Path(job.work_root) / "kernel.log"))


def grade(job):
    start = time.perf_counter()
    result = Result(job.student)
    root = Path(job.work_root)
    shutil.rmtree(root, ignore_errors=True)
    submitted = root / "submitted" / job.student / job.assignment
    submitted.mkdir(parents=True)
    shutil.copyfile(Path(job.course_root) / f".{job.assignment}-template.db", root / "gradebook.db")
    released_dir = Path(job.course_root) / "release" / job.assignment

    for name, raw in sorted(job.notebooks.items()):
        released = nbformat.read(str(released_dir / f"{name}.ipynb"), as_version=4)
        try:
            repaired = repair.repair(raw, released)
        except repair.InvalidSubmission as problem:
            result.invalid.append(f"{name}.ipynb: {problem}")
            continue
        result.repairs += [f"{name}.ipynb: {r}" for r in repaired.report]
        moved = integrity.move_code_below_checks(repaired.notebook)
        if moved:
            result.repairs.append(f"{name}.ipynb: {moved} code cell(s) above the course's checks cell were moved "
                                  "just below it, so that the course's set-up and checks run first")
        result.hints += [f"{name}.ipynb, {label}: {finding}" for label, finding in exploits.review_notebook(repaired.notebook)]
        nbformat.write(repaired.notebook, str(submitted / f"{name}.ipynb"))
    if job.timestamp:
        (submitted / "timestamp.txt").write_text(job.timestamp)

    if any(submitted.glob("*.ipynb")):
        scratch = root / "scratch"
        config = course_config(root)
        # nbgrader's own autograde pipeline, with the student's code run in the sandbox.
        defaults = Autograde.class_traits()["autograde_preprocessors"].make_dynamic_default()
        executor = execute_preprocessor(job, scratch)
        run_cells = executor.preprocess
        records = root / "record"

        def timed_preprocess(nb, resources):
            # each notebook's kernel gets a fresh folder for the checks' signed record
            folder = integrity.prepare(str(records / resources["nbgrader"]["notebook"]))
            if job.sandbox:
                executor.record_dir = folder
            else:
                os.environ[integrity.ENVIRONMENT] = folder
            started = time.perf_counter()
            try:
                return run_cells(nb, resources)
            finally:
                result.execute_seconds += time.perf_counter() - started
                os.environ.pop(integrity.ENVIRONMENT, None)

        executor.preprocess = timed_preprocess  # to report the grader's own overhead
        pipeline = [executor if pp is Execute else pp for pp in defaults]
        pipeline.insert(pipeline.index(LimitOutput) + 1, LimitOutputSize)
        config.Autograde.autograde_preprocessors = pipeline
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        outcome = api.autograde(job.assignment, job.student, force=True, create=True)
        if not outcome["success"]:
            result.crashed = _crash_reason(outcome)
            log = root / "kernel.log"
            if log.exists():  # the kernel's last words (the student's process, not the grader's)
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                if tail:
                    result.crashed += "; the kernel's last output: " + " / ".join(tail)[-400:]
        autograded = root / "autograded" / job.student / job.assignment
        for path in sorted(autograded.glob("*.ipynb")):
            nb = nbformat.read(str(path), as_version=4)
            result.notebooks[path.stem] = _read_scores(nb, path, result)
            _check_record(job, nb, path.stem, records / path.stem, result)
    result.seconds = time.perf_counter() - start
    return result


def _read_scores(nb, path, result):
    scores = NotebookResult(autograded=str(path))
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        errors = [out for out in cell.get("outputs", []) if out.output_type == "error"]
        if any(out.ename == "CellTimeoutError" for out in errors):
            result.timed_out_cells.append(meta.get("grade_id") or f"cell {index + 1}")
        if not nbutils.is_grade(cell):
            continue
        points, max_points = nbutils.determine_grade(cell)
        message = ""
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                message = f"{out.ename}: {out.evalue}".strip()
                if out.ename == "CellTimeoutError":
                    message = "this cell did not finish within the time limit"
                elif out.ename == "NotImplementedError":
                    message = "not answered: the function still raises NotImplementedError"
            elif out.output_type == "stream" and out.name == "stderr" and not message:
                message = "wrote to stderr: " + out.text.strip()[:300]
        scores.cells.append(dict(grade_id=meta["grade_id"], points=points, max_points=max_points,
                                 message=message[:500], manual=nbutils.is_solution(cell)))
    return scores


def _check_record(job, nb, name, folder, result):
    """Hold back the points of test cells whose checks the signed record does not show passing."""
    record = integrity.read(str(folder))
    if job.reference is None:  # the model solution's run: what its test cells check
        if record.problem:
            result.flags.append(f"{name}.ipynb: the signed record of the checks {record.problem}")
        result.checks_run[name] = integrity.passing_checks(nb, record)
        return
    flags, held = integrity.review(nb, record, job.reference.get(name, {}))
    result.flags += [f"{name}.ipynb: {flag}" for flag in flags]
    for cell in result.notebooks[name].cells:
        if cell["grade_id"] in held:
            cell.update(points=0, held_back=True,
                        message=f"held back for your instructor's review: {held[cell['grade_id']]}"[:500])


def _crash_reason(outcome):
    text = (outcome.get("log") or "") + (outcome.get("error") or "")
    if "DeadKernelError" in text or "Kernel died" in text or "kernel died" in text:
        return ("the notebook's kernel died while running (for example os._exit, a crash in native code, "
                "or the memory limit); nothing after that point could be graded")
    # the last exception nbgrader logged, not its closing "see the above traceback"
    errors = [m.group(1) for m in re.finditer(r"^\s*((?:\w+\.)*\w+(?:Error|Exception|Exit)\b:?.*)$", text, re.M)
              if "NbGraderException" not in m.group(1)]
    return f"nbgrader could not grade the notebook: {(errors or ['unknown error'])[-1].strip()[:300]}"


def grade_safely(job):
    """grade() for the worker loop: a bug here becomes a 'crashed' result, not a dead worker."""
    try:
        return grade(job)
    except Exception:  # noqa: BLE001 - reported to the instructor, never swallowed silently
        result = Result(job.student)
        result.crashed = "the grader failed on this submission: " + traceback.format_exc(limit=3)[-800:]
        return result

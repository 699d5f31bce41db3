"""python -m autograder grade: from an LMS download to grades, feedback and a class report.

    python -m autograder grade 01_neuron submissions.zip --out grading/01_neuron

Every submission is repaired back to the released notebook, read for known tricks (hints for
the instructor), and graded by nbgrader's own autograde with the student's code in a sandbox.
The points of a test cell count only if the checks' signed record shows its checks passing as
they do for the model solution (integrity.py); otherwise they are held back for the instructor
and the submission is flagged. The results go
into a real nbgrader gradebook (<out>/course/gradebook.db, so formgrader works for the
written answers), grades.csv, one feedback page per student and a class report. Students
are graded in parallel; a rerun keeps what was already graded and grades the rest.
"""
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.preprocessors import SaveAutoGrades
from tqdm.auto import tqdm

from . import collect, report
from .gradebook import SOLUTIONS, Course, notebook_names, safe_name
from .pool import run_jobs
from .worker import Job, Result, grade_safely

GRADER_VERSION = "2"
STATUS_MEANING = {
    "graded": "graded normally",
    "repaired": "graded after the notebook was repaired (see the repairs)",
    "flagged": "graded, but the record of the checks shows tests that passed without their checks passing; "
               "those points are held back until an instructor decides",
    "timeout": "a cell or the whole notebook ran past its time limit; what did not run earns nothing",
    "crashed": "the kernel died or the notebook could not be run; nothing after the crash earns points",
    "invalid": "the file is not a usable notebook of this assignment",
    "missing": "nothing was submitted",
}


@dataclass
class Settings:
    workers: int = max(1, os.cpu_count() or 1)
    cell_timeout: int = 60
    notebook_timeout: int = 600
    memory_bytes: int = 8 << 30
    max_processes: int = 256
    sandbox: bool = True
    id_pattern: str | None = None
    roster: list | None = None


class GradingError(Exception):
    """The grader itself cannot run (not a problem with a submission)."""


def status_of(result: Result):
    if result.notebook_timeout:
        return "timeout"
    if result.invalid:
        return "invalid"
    if result.crashed:
        return "crashed"
    if result.timed_out_cells:
        return "timeout"
    if result.flags:
        return "flagged"
    if result.repairs:
        return "repaired"
    return "graded"


def latest_timestamp(attempts):
    """When the LMS says the latest of a student's notebooks was handed in, if it says."""
    return max((a.timestamp for a in attempts.values() if a.timestamp), default=None)


def submission_key(assignment, attempts, settings):
    """Same inputs, same key: a rerun reuses a result only when nothing that decides it changed."""
    digest = hashlib.sha256(GRADER_VERSION.encode())
    for path in sorted((SOLUTIONS / assignment).glob("*.ipynb")):
        digest.update(path.read_bytes())
    for name in sorted(attempts):
        digest.update(name.encode() + b"\0" + attempts[name].raw)
    digest.update(json.dumps([settings.cell_timeout, settings.notebook_timeout, settings.memory_bytes,
                              settings.max_processes, settings.sandbox]).encode())
    return digest.hexdigest()


def run(assignment, source, out, settings=Settings()):
    """Grade one assignment's submissions; returns the per-student records."""
    if not (SOLUTIONS / assignment).is_dir():
        known = ", ".join(sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir()))
        raise GradingError(f"no assignment {assignment!r} in {SOLUTIONS} (known: {known})")
    source = Path(source)
    if not source.exists():
        raise GradingError(f"{source} does not exist: give the zip or folder downloaded from the LMS")
    if settings.sandbox:
        from .sandbox import sandbox_problem
        problem = sandbox_problem()
        if problem:
            raise GradingError(f"the sandbox cannot run here: {problem} "
                               "(--no-sandbox runs student code unconfined: only for code you trust)")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    course = Course(out / "course", assignment)
    course.prepare()
    names = notebook_names(assignment)
    try:
        collection = collect.collect(source, names, id_pattern=settings.id_pattern, roster=settings.roster,
                                     released={name: course.released(name) for name in names})
    except collect.CollectError as problem:
        raise GradingError(str(problem)) from None
    for student, attempts in collection.submissions.items():
        # a file that even its content could not place is reported, not guessed at
        for unknown in [n for n in attempts if n not in names]:
            collection.problems.append(f"{attempts.pop(unknown).path}: could not tell which notebook of "
                                       f"{assignment} this is; not graded")

    state_dir = out / "state"
    state_dir.mkdir(exist_ok=True)
    reference = _reference_run(assignment, course, names, out, settings)
    records, todo = {}, []
    for student, attempts in sorted(collection.submissions.items()):
        key = submission_key(assignment, attempts, settings)
        saved = _load_state(state_dir, student)
        if saved and saved.get("key") == key:
            records[student] = saved
        else:
            todo.append((student, attempts, key))

    def make_job(item, slot):
        student, attempts, _ = item
        submitted = latest_timestamp(attempts)
        return Job(student=student, assignment=assignment,
                   notebooks={name: a.raw for name, a in attempts.items()},
                   timestamp=submitted.isoformat() if submitted else None,
                   course_root=str(course.root), work_root=str(out / "work" / student), slot=slot,
                   cell_timeout=settings.cell_timeout, notebook_timeout=settings.notebook_timeout,
                   memory_bytes=settings.memory_bytes,
                   max_processes=settings.max_processes, sandbox=settings.sandbox, reference=reference)

    progress = tqdm(total=len(todo), desc=f"grading {assignment}", unit="student", disable=not todo)

    def on_result(item, outcome, value):
        student, attempts, key = item
        if outcome == "done":
            result = value
        else:
            result = Result(student)
            if outcome == "timeout":
                result.notebook_timeout = True
            else:
                result.crashed = f"the grading process died (exit code {value}); the notebook could not be graded"
        merge_started = time.perf_counter()
        records[student] = _merge(course, student, attempts, key, result, state_dir)
        records[student]["merge_seconds"] = round(time.perf_counter() - merge_started, 3)
        shutil.rmtree(out / "work" / student, ignore_errors=True)
        progress.update(1)

    # The whole-notebook limit covers all of a student's grading, the kernel's start included.
    run_jobs(todo, grade_safely, settings.workers, settings.notebook_timeout, on_result, make_job)
    progress.close()
    shutil.rmtree(out / "work", ignore_errors=True)
    for slot in range(settings.workers):
        shutil.rmtree(f"/tmp/n2g-w{slot}", ignore_errors=True)

    for student in collection.missing:
        records[student] = {"student": student, "status": "missing", "messages": ["nothing was submitted"],
                            "repairs": [], "flags": [], "cells": []}
    report.write_outputs(out, course, records, collection, STATUS_MEANING)
    return records


def _reference_run(assignment, course, names, out, settings):
    """{notebook: {grade_id: [check, ...]}}: what the model solution's tests check, cell by cell.

    The model solution is graded once like a submission (cached for reruns). It must earn every
    automatic point with a clean record here, or grading stops: the environment is not fit."""
    key = submission_key(assignment, {}, settings)
    cache = out / "state" / "reference.json"
    try:
        saved = json.loads(cache.read_text())
        if saved.get("key") == key:
            return saved["checks"]
    except (OSError, ValueError):
        pass
    solutions = {name: (SOLUTIONS / assignment / f"{name}.ipynb").read_bytes() for name in names}
    outcome = {}

    def make_job(_, slot):
        return Job(student="model-solution", assignment=assignment, notebooks=solutions, timestamp=None,
                   course_root=str(course.root), work_root=str(out / "work" / "_model-solution"), slot=slot,
                   cell_timeout=settings.cell_timeout, notebook_timeout=settings.notebook_timeout,
                   memory_bytes=settings.memory_bytes, max_processes=settings.max_processes,
                   sandbox=settings.sandbox, reference=None)

    run_jobs(["model-solution"], grade_safely, 1, settings.notebook_timeout,
             lambda _, kind, value: outcome.update(kind=kind, value=value), make_job)
    shutil.rmtree(out / "work" / "_model-solution", ignore_errors=True)
    result = outcome["value"] if outcome["kind"] == "done" else None
    problems = []
    if result is None:
        problems.append(f"its grading process ended ({outcome['kind']})")
    else:
        problems += ([result.crashed] if result.crashed else []) + result.flags + result.invalid
        problems += result.timed_out_cells
        problems += [f"{cell['grade_id']}: {cell['message'] or 'no points'}" for scores in result.notebooks.values()
                     for cell in scores.cells if not cell["manual"] and cell["points"] != cell["max_points"]]
        problems += [f"{name}: not graded" for name in names if name not in result.notebooks]
    if problems:
        raise GradingError(f"the model solution of {assignment} does not earn full marks in this grading "
                           f"environment, so no submission could be graded fairly: {'; '.join(problems)[:1500]}")
    cache.write_text(json.dumps({"key": key, "checks": result.checks_run}))
    return result.checks_run


def _load_state(state_dir, student):
    path = state_dir / f"{safe_name(student)}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _merge(course, student, attempts, key, result, state_dir):
    """Put one student's result into the real gradebook, then remember it for reruns."""
    status = status_of(result)
    with course.gradebook() as gb:
        gb.update_or_create_student(student)
        submitted = latest_timestamp(attempts)
        if submitted:
            gb.update_or_create_submission(course.assignment, student, timestamp=submitted)
        else:
            gb.update_or_create_submission(course.assignment, student)
    graded = set()
    for name, scores in result.notebooks.items():
        if not scores.autograded:
            continue
        target = course.autograded_dir(student) / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(scores.autograded, target)
        nb = nbformat.read(str(target), as_version=4)
        resources = {"nbgrader": {"db_url": course.db_url, "assignment": course.assignment,
                                  "notebook": name, "student": student}}
        SaveAutoGrades().preprocess(nb, resources)
        graded.add(name)
        held = {cell["grade_id"] for cell in scores.cells if cell.get("held_back")}
        if held:  # no credit until an instructor gives it in formgrader
            with course.gradebook() as gb:
                for grade in gb.find_submission_notebook(name, course.assignment, student).grades:
                    if grade.name in held:
                        grade.auto_score = 0
                        grade.needs_manual_grade = True
                gb.db.commit()
    with course.gradebook() as gb:
        # What could not be run earns nothing automatically, as nbgrader does for a missing notebook.
        for name in notebook_names(course.assignment):
            if name in graded:
                continue
            for grade in gb.find_submission_notebook(name, course.assignment, student).grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
            gb.db.commit()

    messages = [note for attempt in attempts.values() for note in attempt.notes] + list(result.invalid)
    if result.notebook_timeout:
        messages.append("the notebook did not finish within the whole-notebook time limit; it earns no points")
    if result.crashed:
        messages.append(result.crashed)
    if result.timed_out_cells:
        messages.append("cells that ran past the time limit: " + ", ".join(result.timed_out_cells))
    record = {"student": student, "key": key, "status": status, "messages": messages,
              "repairs": result.repairs, "flags": result.flags, "hints": result.hints,
              "seconds": round(result.seconds, 3),
              "execute_seconds": round(result.execute_seconds, 3),
              "sources": sorted(str(a.path) for a in attempts.values()),
              "cells": [dict(cell, notebook=name) for name, nb in sorted(result.notebooks.items())
                        for cell in nb.cells]}
    (state_dir / f"{safe_name(student)}.json").write_text(json.dumps(record, indent=1))
    return record

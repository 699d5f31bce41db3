"""Benchmark: the course's grader against plain `nbgrader autograde` on the same class.

    python -m tests.bench_grader              # 30 generated submissions of 01_neuron
    python -m tests.bench_grader --write      # also record the result in book/benchmarks.md

The class mixes complete solutions, solutions with one realistic mistake (a mutant),
half-done and untouched notebooks, each with a line of its own so that no two files are
the same. Both graders run in the same process, one after the other, on this machine.
Not a timed test: the numbers depend on the machine.
"""
import argparse
import copy
import datetime
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import grade as grading
from autograder.gradebook import Course
from tests import harness
from tests.bench import write_section
from tests.test_roundtrip import filled_in

BEGIN, END = "<!-- grader-bench:begin -->", "<!-- grader-bench:end -->"


def make_class(assignment, size, seed=0):
    rng = random.Random(seed)
    solution = harness.read(harness.solution_notebook(assignment))
    stub = harness.read(harness.EXERCISES / assignment / f"{assignment}.ipynb")
    good = filled_in(stub, solution)
    mutants = harness.load_mutants(assignment)
    answers = [c.metadata.nbgrader["grade_id"] for c in stub.cells
               if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    submissions = {}
    for i in range(size):
        kind = ("complete", "one mistake", "half done", "untouched")[i % 4]
        if kind == "complete":
            nb = good
        elif kind == "one mistake":
            nb = harness.apply_mutant(good, rng.choice(mutants))
        elif kind == "half done":
            nb = filled_in(stub, solution)
            for gid in answers[len(answers) // 2:]:
                harness.cell_by_id(nb, gid).source = harness.cell_by_id(stub, gid).source
        else:
            nb = stub
        nb = copy.deepcopy(nb)
        nb.cells.append(nbformat.v4.new_code_cell(f"# my notes, student {i}", id=f"notes-{i}"))
        submissions[f"s{i:03d}"] = nb
    return submissions


def run_nbgrader(assignment, submissions, root):
    """What an instructor would do without this course's grader: nbgrader autograde on the class."""
    # the same course folder the grader makes: the assignment in a gradebook, and an
    # nbgrader_config.py that loads the course's configuration
    Course(root, assignment).prepare()
    for student, nb in submissions.items():
        target = Path(root) / "submitted" / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, str(target))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"], cwd=root, check=True,
                   env=dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}"),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="01_neuron")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--workers", type=int, help="grader workers (default: the grader's own default)")
    parser.add_argument("--skip-nbgrader", action="store_true", help="time only the course's grader")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    submissions = make_class(args.assignment, args.students)
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        tmp = Path(tmp)
        folder = tmp / "download"
        folder.mkdir()
        for student, nb in submissions.items():
            nbformat.write(nb, str(folder / f"{student}_Copy of {args.assignment}.ipynb"))
        settings = grading.Settings()
        if args.workers:
            settings.workers = args.workers
        started = time.perf_counter()
        records = grading.run(args.assignment, folder, tmp / "ours", settings)
        ours = time.perf_counter() - started
        baseline = float("nan") if args.skip_nbgrader else run_nbgrader(args.assignment, submissions, tmp / "nbgrader")
    n = len(records)
    execute = sum(r["execute_seconds"] for r in records.values()) / n
    overhead = sum(r["seconds"] - r["execute_seconds"] + r["merge_seconds"] for r in records.values()) / n
    statuses = sorted({r["status"] for r in records.values()})
    text = (f"| grader | wall time for {n} students (s) |\n| --- | ---: |\n"
            f"| `nbgrader autograde` | {baseline:.1f} |\n"
            f"| `python -m autograder grade` ({settings.workers} workers, sandboxed) | {ours:.1f} |\n\n"
            f"Speed-up {baseline / ours:.2f}×. Per student, running the notebook's cells took {execute:.2f} s "
            f"and everything else the grader did (repair, review, gradebook copies and merge) {overhead:.2f} s. "
            f"Statuses: {', '.join(statuses)}. Machine: {os.cpu_count()} CPU cores, measured "
            f"{datetime.date.today().isoformat()} with `python -m tests.bench_grader`.\n")
    print(text)
    if args.write:
        write_section(BEGIN, END, text)


if __name__ == "__main__":
    main()

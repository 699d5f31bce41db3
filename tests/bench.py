"""Benchmark: how long each notebook takes to execute on this machine.

    python -m tests.bench            # print the table
    python -m tests.bench --write    # also put it into book/benchmarks.md

Chapters run as a reader runs them; exercises run with their solutions filled in, once as a
student runs them and once under grading (NBGRADER_EXECUTION set: short training). Each
notebook runs alone in an empty folder, one at a time, so the times do not disturb each other.
Not a timed test: the numbers depend on the machine.
"""
import argparse
import datetime
import os
import platform
import re
import time

import torch
import yaml

from tests import harness

BENCH_FILE = harness.REPO / "book" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
TARGETS = {"chapter": "Part I chapters together ≤ 180 s, Part II's ≤ 240 s", "exercise": "each ≤ 60 s"}


def chapter_pages():
    """Chapter notebooks in the order of the table of contents."""
    toc = yaml.safe_load((harness.REPO / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [harness.REPO / f"{f}.ipynb" for f in files
            if f.startswith("book/") and (harness.REPO / f"{f}.ipynb").exists()]


def timed(nb, grading):
    start = time.perf_counter()
    executed = harness.execute(nb, grading=grading, allow_errors=True)
    elapsed = time.perf_counter() - start
    return elapsed, harness.problem_cells(executed)


def measure():
    rows = []
    for page in chapter_pages():
        seconds, problems = timed(harness.read(page), grading=False)
        rows.append(("chapter", str(page.relative_to(harness.REPO)), seconds, None, problems))
    for assignment in harness.assignments():
        nb = harness.read(harness.solution_notebook(assignment))
        student, problems = timed(nb, grading=False)
        grading, _ = timed(nb, grading=True)
        rows.append(("exercise", f"solutions/{assignment} (solutions filled in)", student, grading, problems))
    return rows


def table(rows):
    lines = ["| kind | notebook | as a student (s) | under grading (s) |", "| --- | --- | ---: | ---: |"]
    for kind, name, student, grading, problems in rows:
        flag = " (errors!)" if problems else ""
        lines.append(f"| {kind} | {name}{flag} | {student:.1f} | {'' if grading is None else f'{grading:.1f}'} |")
    for part in sorted({r[1].split("/")[1] for r in rows if r[0] == "chapter"}):
        total = sum(r[2] for r in rows if r[0] == "chapter" and r[1].split("/")[1] == part)
        lines.append(f"| | **{part} chapters together** | {total:.1f} | |")
    machine = (f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
               f"torch {torch.__version__}, one thread per kernel (OMP_NUM_THREADS=1), "
               f"measured {datetime.date.today().isoformat()}")
    return "\n".join(lines) + f"\n\nMachine: {machine}. Targets: {TARGETS['chapter']}; exercises {TARGETS['exercise']}.\n"


def write_section(begin, end, text):
    """Replace what stands between two markers of book/benchmarks.md."""
    page = BENCH_FILE.read_text()
    page = re.sub(f"{re.escape(begin)}.*{re.escape(end)}", lambda _: f"{begin}\n{text}{end}", page, flags=re.S)
    BENCH_FILE.write_text(page)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"update {BENCH_FILE.name}")
    args = parser.parse_args(argv)
    rows = measure()
    text = table(rows)
    print(text)
    if args.write:
        write_section(BEGIN, END, text)


if __name__ == "__main__":
    main()

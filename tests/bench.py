"""Benchmark: how long each notebook takes to execute on this machine.

    python -m tests.bench            # print the table
    python -m tests.bench --write    # also put it into book/benchmarks.md
    python -m tests.bench --threads [--write]   # one CPU thread per kernel against two

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
import subprocess
import sys
import time

import torch
import yaml

from tests import harness

BENCH_FILE = harness.REPO / "book" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
THREADS_BEGIN, THREADS_END = "<!-- threads-bench:begin -->", "<!-- threads-bench:end -->"
BUSY_EXERCISE = "05_lstm"  # the training exercise that failed on a busy machine (issue 8)
BUSY_CAP = 240  # seconds a contended run may take before the benchmark stops waiting
TARGETS = {"chapter": "Part I chapters together ≤ 180 s, Part II's ≤ 240 s, Part III's ≤ 180 s, Part IV's ≤ 240 s",
           "exercise": "each ≤ 60 s"}


def chapter_pages():
    """Chapter notebooks in the order of the table of contents."""
    toc = yaml.safe_load((harness.REPO / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [harness.REPO / f"{f}.ipynb" for f in files
            if f.startswith("book/") and (harness.REPO / f"{f}.ipynb").exists()]


def timed(nb, grading, threads=None):
    start = time.perf_counter()
    executed = harness.execute(nb, grading=grading, allow_errors=True, threads=threads)
    elapsed = time.perf_counter() - start
    return elapsed, harness.problem_cells(executed)


def measure(only=None):
    """Rows (kind, notebook, seconds as a student, seconds under grading, problem cells); `only`:
    the names (01_neuron, 09_attention) of the notebooks to measure, all when None."""
    rows = []
    for page in chapter_pages():
        if only is not None and page.stem not in only:
            continue
        seconds, problems = timed(harness.read(page), grading=False)
        rows.append(("chapter", str(page.relative_to(harness.REPO)), seconds, None, problems))
    for assignment in harness.assignments():
        if only is not None and assignment not in only:
            continue
        nb = harness.read(harness.solution_notebook(assignment))
        student, problems = timed(nb, grading=False)
        grading, _ = timed(nb, grading=True)
        rows.append(("exercise", f"solutions/{assignment} (solutions filled in)", student, grading, problems))
    return rows


def rows_on_the_page():
    """The rows of the table book/benchmarks.md holds now, in measure()'s form."""
    section = BENCH_FILE.read_text().split(BEGIN)[1].split(END)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in ("chapter", "exercise"):
            name = cells[1].replace(" (errors!)", "")
            rows.append((cells[0], name, float(cells[2]), float(cells[3]) if cells[3] else None,
                         ["(errors!)"] if "(errors!)" in cells[1] else []))
    return rows


def merged(old_rows, new_rows):
    """The page's rows with the re-measured ones in their place, in table-of-contents order."""
    rows = {row[1]: row for row in old_rows} | {row[1]: row for row in new_rows}
    order = [str(p.relative_to(harness.REPO)) for p in chapter_pages()]
    order += [f"solutions/{a} (solutions filled in)" for a in harness.assignments()]
    return [rows[name] for name in order if name in rows]


def table(rows):
    lines = ["| kind | notebook | as a student (s) | under grading (s) |", "| --- | --- | ---: | ---: |"]
    for kind, name, student, grading, problems in rows:
        flag = " (errors!)" if problems else ""
        lines.append(f"| {kind} | {name}{flag} | {student:.1f} | {'' if grading is None else f'{grading:.1f}'} |")
    for part in sorted({r[1].split("/")[1] for r in rows if r[0] == "chapter"}):
        total = sum(r[2] for r in rows if r[0] == "chapter" and r[1].split("/")[1] == part)
        lines.append(f"| | **{part} chapters together** | {total:.1f} | |")
    machine = (f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
               f"torch {torch.__version__}, one thread per kernel (the notebooks' own setting), "
               f"measured {datetime.date.today().isoformat()}")
    return "\n".join(lines) + f"\n\nMachine: {machine}. Targets: {TARGETS['chapter']}; exercises {TARGETS['exercise']}.\n"


def harness_run(path, threads):
    """A graded `python -m tests.harness run` of one notebook in its own process (started, not awaited)."""
    command = [sys.executable, "-m", "tests.harness", "run", str(path), "--threads", str(threads),
               "--cell-timeout", str(BUSY_CAP)]
    return subprocess.Popen(command, cwd=harness.REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_timed(processes, start):
    """Seconds from `start` until each process ended (None if it failed or ran past BUSY_CAP).
    Polled together, so that each process gets its own end time, not the one it was waited at."""
    ended = {}
    while len(ended) < len(processes) and time.perf_counter() < start + BUSY_CAP:
        for process in processes:
            if process not in ended and process.poll() is not None:
                ended[process] = time.perf_counter() - start if process.returncode == 0 else None
        time.sleep(0.1)
    for process in processes:
        if process not in ended:
            process.kill()
            process.wait()
            ended[process] = None
    return [ended[process] for process in processes]


def measure_threads():
    """Alone: every notebook with 1 and 2 threads. Contended: one training exercise twice at
    once, and next to a CPU-bound process, with 1 and 2 threads each."""
    rows = []
    notebooks = [("chapter", page, False) for page in chapter_pages()]
    notebooks += [("exercise", harness.solution_notebook(a), True) for a in harness.assignments()]
    for kind, path, grading in notebooks:
        nb = harness.read(path)
        times = {n: timed(nb, grading, threads=n)[0] for n in (1, 2)}
        rows.append((f"{kind} alone", str(path.relative_to(harness.REPO)), times[1], times[2]))
    busy = harness.solution_notebook(BUSY_EXERCISE)
    name = str(busy.relative_to(harness.REPO))
    for how in ("two at once", "next to a CPU-bound process"):
        times = {}
        for n in (1, 2):
            burner = None if how == "two at once" else harness.cpu_burner(BUSY_CAP + 60)
            start = time.perf_counter()
            runs = [harness_run(busy, n) for _ in range(2 if how == "two at once" else 1)]
            results = wait_timed(runs, start)
            if burner:
                burner.kill()
                burner.wait()
            times[n] = results
        rows.append((how, name, times[1], times[2]))
    return rows


def threads_table(rows):
    def show(value):
        values = value if isinstance(value, list) else [value]
        return ", ".join(f"> {BUSY_CAP} (stopped)" if v is None else f"{v:.1f}" for v in values)
    lines = ["| run | notebook (graded schedule for exercises) | 1 thread (s) | 2 threads (s) |",
             "| --- | --- | ---: | ---: |"]
    lines += [f"| {how} | {name} | {show(one)} | {show(two)} |" for how, name, one, two in rows]
    machine = (f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
               f"torch {torch.__version__}, measured {datetime.date.today().isoformat()}")
    return "\n".join(lines) + f"\n\nMachine: {machine}.\n"


def write_section(begin, end, text):
    """Replace what stands between two markers of book/benchmarks.md."""
    page = BENCH_FILE.read_text()
    page = re.sub(f"{re.escape(begin)}.*{re.escape(end)}", lambda _: f"{begin}\n{text}{end}", page, flags=re.S)
    BENCH_FILE.write_text(page)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"update {BENCH_FILE.name}")
    parser.add_argument("--threads", action="store_true", help="compare one and two CPU threads per kernel")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="measure only these notebooks (09_attention ...), keep the page's other rows")
    args = parser.parse_args(argv)
    if args.threads:
        text = threads_table(measure_threads())
        print(text)
        if args.write:
            write_section(THREADS_BEGIN, THREADS_END, text)
        return
    rows = measure(set(args.only) if args.only else None)
    if args.only:  # the other rows stay as the page has them
        rows = merged(rows_on_the_page(), rows)
    text = table(rows)
    print(text)
    if args.write:
        write_section(BEGIN, END, text)


if __name__ == "__main__":
    main()

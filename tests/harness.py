"""Execute course notebooks the way nbgrader does and score them.

Used by the test suite and by authors while writing an assignment:

    python -m tests.harness score solutions/01_neuron/01_neuron.ipynb
    python -m tests.harness stub 01_neuron          # the student copy must score 0
    python -m tests.harness mutants 01_neuron       # every mutant must lose points

Notebooks run in an empty temporary folder with a kernel that cannot import this
repository, as they would in Colab. ``grading=True`` sets NBGRADER_EXECUTION as
nbgrader does, so training cells take their short schedule.
"""
import argparse
import ast
import copy
import functools
import importlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader import utils as nbutils
from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, Execute, IgnorePattern

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"


def assignments():
    """Names of the assignments: the folders of solutions/."""
    from autograder.release import assignments as released_assignments
    return released_assignments()


def solution_notebook(assignment):
    (path,) = sorted((SOLUTIONS / assignment).glob("*.ipynb"))
    return path


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def kernel_env(grading, threads=None):
    """The environment of a fresh Colab-like kernel: nothing of this repository on the path.

    No thread setting is inherited: the notebook's own set-up cell chooses (one thread), as it
    does in Colab and under an instructor's plain nbgrader. ``threads`` overrides it through
    OMP_NUM_THREADS, which that cell honours (for benchmarks).
    """
    drop = ("PYTHONPATH", "NBGRADER_EXECUTION") + THREAD_VARIABLES
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if grading:
        env["NBGRADER_EXECUTION"] = "autograde"
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def retrying_kernel_start(run):
    """run(), again (three tries in all) if its kernel died before it answered: kernels started at
    the same moment by parallel test workers can race for the same free TCP ports (seen once in
    about 500 starts). Nothing of the notebook has run then, so a new start is safe."""
    for attempt in range(3):
        try:
            return run()
        except RuntimeError as error:
            if "Kernel died before replying to kernel_info" not in str(error) or attempt == 2:
                raise


def cpu_burner(seconds):
    """A CPU-bound process beside the kernels under test; it ends by itself after `seconds`, even
    if whoever started it is killed before it can stop it."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    return subprocess.Popen([sys.executable, "-c", code])


def execute(nb, grading=True, cell_timeout=120, allow_errors=True, threads=None):
    """Run a notebook node in an empty temporary folder; returns the executed copy."""
    return retrying_kernel_start(lambda: _execute_once(nb, grading, cell_timeout, allow_errors, threads))


def _error_from_reply(cell, execute_reply, **_):
    """As nbgrader's Execute does: a cell whose reply says error gets an error output even when
    the kernel showed none (an exception swallowed by an IPython handler still fails the cell)."""
    Execute.on_cell_executed(None, cell=cell, execute_reply=execute_reply)


def _execute_once(nb, grading, cell_timeout, allow_errors, threads):
    nb = copy.deepcopy(nb)
    with tempfile.TemporaryDirectory(prefix="nb-run-") as workdir:
        client = NotebookClient(
            nb, timeout=cell_timeout, kernel_name="python3", allow_errors=allow_errors,
            resources={"metadata": {"path": workdir}}, on_cell_executed=_error_from_reply)
        # The kernel's own log (a notice about its TCP transport) is noise here; what the
        # notebook prints arrives through the cells' outputs.
        client.execute(env=kernel_env(grading, threads), cwd=workdir, stderr=subprocess.DEVNULL)
    return nb


def execute_until_a_test_fails(nb, grading=True, cell_timeout=120):
    """Run cells in order and stop after the first autograded cell that loses points.

    For mutants: once a test cell fails the mutant is caught, and the cells after it (often
    the training) need not run. Returns (executed notebook, the failing cell's score or None).
    """
    return retrying_kernel_start(lambda: _execute_until_a_test_fails_once(nb, grading, cell_timeout))


def _execute_until_a_test_fails_once(nb, grading, cell_timeout):
    nb = copy.deepcopy(nb)
    tests = {id(cell) for cell in autograded_cells(nb)}
    with tempfile.TemporaryDirectory(prefix="nb-run-") as workdir:
        client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": workdir}}, on_cell_executed=_error_from_reply)
        with client.setup_kernel(env=kernel_env(grading), cwd=workdir, stderr=subprocess.DEVNULL):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                client.execute_cell(cell, index)
                if id(cell) in tests:
                    (result,) = score(nbformat.v4.new_notebook(cells=[cell]))
                    if result.points < result.max_points:
                        return nb, result
    return nb, None


@functools.lru_cache(maxsize=None)
def _ignore_pattern():
    """nbgrader's IgnorePattern as the course configures it for grading (read once)."""
    from autograder.release import nbgrader_config
    return IgnorePattern(config=nbgrader_config())


def autograded_cells(nb):
    """The test cells nbgrader scores automatically (grade, not solution, code)."""
    return [c for c in nb.cells if nbutils.is_grade(c) and not nbutils.is_solution(c)
            and c.cell_type == "code"]


@dataclass
class CellScore:
    grade_id: str
    points: float
    max_points: float
    message: str  # the error the student would see, '' when the cell passed


def score(executed_nb):
    """Score every autograded cell with nbgrader's own rule (error or stderr: 0)."""
    executed_nb, _ = _ignore_pattern().preprocess(copy.deepcopy(executed_nb), {})
    results = []
    for cell in autograded_cells(executed_nb):
        points, max_points = nbutils.determine_grade(cell)
        message = ""
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                message = f"{out.ename}: {out.evalue}"
            elif out.output_type == "stream" and out.name == "stderr" and not message:
                message = "stderr: " + out.text.strip()[:200]
        results.append(CellScore(cell.metadata.nbgrader["grade_id"], points, max_points, message))
    return results


def problem_cells(executed_nb):
    """(index, message) for each code cell that raised or wrote to stderr."""
    problems = []
    for index, cell in enumerate(executed_nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append((index, f"{out.ename}: {out.evalue}"))
            elif out.output_type == "stream" and out.name == "stderr":
                problems.append((index, "stderr: " + out.text.strip()))
    return problems


def student_copy(nb):
    """What a student receives: solutions replaced by stubs, hidden tests and outputs removed."""
    nb = copy.deepcopy(nb)
    resources = {}
    for pp in (ClearSolutions(), ClearOutput(), ClearHiddenTests()):
        nb, resources = pp.preprocess(nb, resources)
    return nb


def cell_by_id(nb, grade_id):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


@dataclass
class Mutant:
    cell: str         # grade_id of the solution cell it changes
    description: str  # the mistake, in words
    find: str         # text of the model solution...
    replace: str      # ...and what the mistaken student wrote instead


def mutants_module(assignment):
    return importlib.import_module(f"tests.mutants.m{assignment}")


def _listed(assignment, kind):
    """The cases of one kind (MUTANTS, RULE_BREAKERS, CHAPTER_COPIES) in tests/mutants/m<assignment>.py."""
    return [Mutant(*m) for m in getattr(mutants_module(assignment), kind, [])]


def load_mutants(assignment):
    return _listed(assignment, "MUTANTS")


def load_rule_breakers(assignment):
    """Answers that give right results but break a rule the exercise states ("by hand", "without
    nn.GRUCell"): each must lose the points of its own part, with a message naming the rule."""
    return _listed(assignment, "RULE_BREAKERS")


def chapter_pages(assignment):
    """The chapter pages that teach an assignment: book/part*/<assignment>.ipynb, and the pages an
    exercise covering several chapters names in its mutants module (CHAPTERS = ["12_positions"])."""
    names = [assignment] + list(getattr(mutants_module(assignment), "CHAPTERS", []))
    return [page for name in names for page in sorted((REPO / "book").glob(f"part*/{name}.ipynb"))[:1]]


def top_level_definitions(source):
    """{name: source text} of the functions and classes a cell defines at its top level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with IPython magics
        return {}
    return {node.name: ast.get_source_segment(source, node) for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def chapter_copies(assignment):
    """For every answer that defines a function or class a chapter page it covers also defines, the
    answer with the chapter's definition pasted in its place (as a Mutant), and the copies the
    assignment's mutants module lists as CHAPTER_COPIES: the chapter shows the idea, so a copy of
    its code must not earn the exercise's points."""
    chapter = {}
    for page in chapter_pages(assignment):
        for cell in read(page).cells:
            if cell.cell_type == "code":
                chapter.update(top_level_definitions(cell.source))
    copies = []
    for cell in read(solution_notebook(assignment)).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        for name, source in top_level_definitions(cell.source).items():
            if name in chapter:
                copies.append(Mutant(meta["grade_id"], f"pastes the chapter's {name}", source, chapter[name]))
    # copies under another name, or of code the chapter writes outside a function, listed by hand
    return copies + _listed(assignment, "CHAPTER_COPIES")


def apply_mutant(nb, mutant):
    nb = copy.deepcopy(nb)
    cell = cell_by_id(nb, mutant.cell)
    count = cell.source.count(mutant.find)
    if count != 1:
        raise ValueError(f"mutant {mutant.description!r}: {mutant.find!r} occurs {count} times "
                         f"in cell {mutant.cell!r}, expected once")
    cell.source = cell.source.replace(mutant.find, mutant.replace)
    return nb


def read(path):
    return nbformat.read(str(path), as_version=4)


def _print_scores(scores, elapsed):
    for s in scores:
        mark = "ok  " if s.points == s.max_points else "FAIL"
        print(f"  {mark} {s.grade_id:32s} {s.points:g}/{s.max_points:g} {s.message[:110]}")
    total = sum(s.points for s in scores)
    print(f"  total {total:g}/{sum(s.max_points for s in scores):g} in {elapsed:.1f} s")
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "score", "stub", "mutants"])
    parser.add_argument("target", help="a notebook path (score) or an assignment name")
    parser.add_argument("--student", action="store_true", help="run without NBGRADER_EXECUTION")
    parser.add_argument("--threads", type=int, help="CPU threads of the kernel (run only; default: the notebook's)")
    parser.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell (run only)")
    args = parser.parse_args(argv)
    if args.command == "run":
        # a chapter page or any notebook: every cell must run without error or stderr
        start = time.time()
        nb = execute(read(args.target), grading=not args.student, allow_errors=True,
                     threads=args.threads, cell_timeout=args.cell_timeout)
        problems = problem_cells(nb)
        for index, message in problems:
            print(f"  cell {index}: {message[:300]}")
        print(f"  {len(problems)} problem cell(s), {time.time() - start:.1f} s")
        if problems:
            sys.exit(1)
    elif args.command == "score":
        start = time.time()
        scores = score(execute(read(args.target), grading=not args.student))
        _print_scores(scores, time.time() - start)
    elif args.command == "stub":
        start = time.time()
        scores = score(execute(student_copy(read(solution_notebook(args.target)))))
        if _print_scores(scores, time.time() - start) != 0:
            sys.exit("the student copy earns points: some test cannot fail")
    else:
        nb = read(solution_notebook(args.target))
        survivors = []
        for mutant in load_mutants(args.target):
            start = time.time()
            # the same early-stopping run as the test suite's
            _, failed = execute_until_a_test_fails(apply_mutant(nb, mutant))
            status = "caught" if failed else "SURVIVED"
            print(f"{status:8s} {mutant.cell}: {mutant.description} ({time.time() - start:.1f} s)")
            if failed:
                print(f"           -{failed.max_points - failed.points:g} {failed.grade_id}: {failed.message[:100]}")
            else:
                survivors.append(mutant)
        if survivors:
            sys.exit(f"{len(survivors)} mutant(s) survived")


if __name__ == "__main__":
    main()

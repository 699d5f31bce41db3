"""The instructors' grader on a class of realistic bad submissions (issue: grade safely).

One grading run over a zip that mixes correct and partly correct work with hostile code,
broken files and Colab manglings. Every case must end with a status and a clear message,
no case may change another student's grade, and the gradebook must agree with grades.csv.
Then the run is repeated and interrupted, and the grades must not move.
"""
import copy
import csv
import sqlite3
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import grade as grading
from autograder.sandbox import sandbox_problem
from tests import harness
from tests.test_collect_repair import colabify
from tests.test_roundtrip import filled_in

ASSIGNMENT = "01_neuron"
FULL = 14  # automatic points of 01_neuron
PWNED = f"/tmp/n2g-pwned-{uuid.uuid4().hex}"
# Generous against a loaded CI machine, yet short enough to keep the test to a few minutes.
SETTINGS = dict(workers=2, cell_timeout=20, notebook_timeout=90)

pytestmark = pytest.mark.skipif(sandbox_problem() is not None, reason=f"no sandbox: {sandbox_problem()}")


def with_relu(nb, body, top=""):
    """A copy of `nb` whose relu answer runs `top` when defined and `body` when called."""
    nb = copy.deepcopy(nb)
    cell = harness.cell_by_id(nb, "relu")
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    cell.source = f"{top}\ndef relu(z):\n{indented}\n    return np.maximum(z, 0.0)\n"
    return nb


def with_prefix(nb, grade_ids, code):
    nb = copy.deepcopy(nb)
    for gid in grade_ids:
        cell = harness.cell_by_id(nb, gid)
        cell.source = code + "\n" + cell.source
    return nb


def mangled_by_student(nb):
    """Metadata stripped from an answer, a test cell deleted, an answer duplicated."""
    nb = copy.deepcopy(nb)
    del harness.cell_by_id(nb, "sigmoid").metadata["nbgrader"]
    nb.cells.remove(harness.cell_by_id(nb, "test_relu"))
    relu = harness.cell_by_id(nb, "relu")
    twin = copy.deepcopy(relu)
    twin.id = "relu-twin"
    nb.cells.insert(nb.cells.index(relu), twin)
    return nb


# Wrong in every part, without raising: what a student who cannot solve it, but can cheat, hands in.
WRONG_ANSWERS = {
    "sigmoid": "def sigmoid(z):\n    return np.zeros_like(np.asarray(z, dtype=float))\n",
    "relu": "def relu(z):\n    return np.zeros_like(z)\n",
    "neuron_forward": "def neuron_forward(x, w, activation):\n    return np.zeros(len(x))\n",
    "dense_forward": "def dense_forward(X, W, b):\n    return np.zeros((len(X), len(W)))\n",
    "mlp_forward": "def mlp_forward(X, layers, hidden_activation, output_activation):\n"
                   "    return np.zeros((len(X), len(layers[-1][1])))\n",
    "predict_leaf_or_flower": "def predict_leaf_or_flower(X, layers):\n    return np.zeros(len(X), dtype=int)\n",
    "predict_salary": "def predict_salary(age, years, layers):\n    return np.zeros(len(age))\n",
}
# Ways to switch the checks off (issue 10), none naming a helper or get_ipython in the text the static
# review knows. Each goes into the first answer cell, or into every answer's body (REBIND_WHEN_CALLED).
NO_OP_CHECKS = """
def _nothing(*args, **kwargs):
    return None
def _just_call(rule, function, *args, forbidden=(), **kwargs):
    return function(*args, **kwargs)
"""
THROUGH_NAMESPACE = NO_OP_CHECKS + """
namespace = globals()
namespace.update({name: _nothing for name in list(namespace) if name.startswith("check_")})
namespace["run_keeping_rule"] = _just_call
"""
THROUGH_MAIN_MODULE = NO_OP_CHECKS + """
import sys
main = sys.modules["__main__"]
for name in dir(main):
    if name.startswith("check_"):
        setattr(main, name, _nothing)
setattr(main, "run_keeping_rule", _just_call)
"""
THROUGH_ALIASES = """
import math as m, numpy as xp, torch as t
always = lambda *args, **kwargs: True
xp.allclose, xp.array_equal, xp.isclose, m.isclose, t.allclose, t.equal = (always,) * 6
"""
REBIND_WHEN_CALLED = """
import sys
main = sys.modules["__main__"].__dict__
main.update({name: (lambda *args, **kwargs: None) for name in list(main) if name.startswith("check_")})
main["run_keeping_rule"] = lambda rule, function, *args, forbidden=(), **kwargs: function(*args, **kwargs)
"""
SHELL = 'import sys\nshell = sys.modules["IPython"].core.interactiveshell.InteractiveShell.instance()\n'
SWALLOW_ERRORS = SHELL + "shell.set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
UNHOOK = SHELL + "for event in ('pre_run_cell', 'post_run_cell'):\n    shell.events.callbacks[event].clear()\n"
# every later cell wrapped in try/except: no error reaches IPython, so nbgrader sees none either
UNHOOK_AND_FORGIVE = UNHOOK + """
import ast
class Forgive(ast.NodeTransformer):
    def visit_Module(self, node):
        anything = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name=None, body=[ast.Pass()])
        node.body = [ast.Try(body=node.body or [ast.Pass()], handlers=[anything], orelse=[], finalbody=[])]
        return ast.fix_missing_locations(node)
shell.ast_transformers.append(Forgive())
"""
UNHOOK_AND_REPLACE = UNHOOK + THROUGH_NAMESPACE
# relu wrong, and when called it swaps the test cell's own reference for one that agrees with it
REBIND_THE_REFERENCE = """def relu(z):
    import sys
    main = sys.modules["__main__"].__dict__
    main["reference_relu"] = lambda z: np.zeros_like(z)
    return np.zeros_like(z)
"""
# Correct work written unusually: own helpers, extra imports, printing, random numbers drawn.
UNUSUAL_BUT_LEGAL = """
import itertools, math as m, sys
from collections import OrderedDict
_burn = np.random.rand(3), torch.rand(2), itertools.count()
def clip_exponent(z):  # a helper of my own
    return np.minimum(np.abs(z), 700.0)
print("my debugging output:", clip_exponent(np.array([-1000.0, 2.0])), m.pi, file=sys.stdout)
"""


def wrong_everywhere(nb, cheat="", in_every_answer=""):
    """A copy of `nb` with a wrong answer in every part; `cheat` runs first, `in_every_answer` on each call."""
    nb = copy.deepcopy(nb)
    for gid, source in WRONG_ANSWERS.items():
        if in_every_answer:
            head, body = source.split("\n", 1)
            source = head + "\n" + "\n".join("    " + line for line in in_every_answer.strip().splitlines()) \
                + "\n" + body
        harness.cell_by_id(nb, gid).source = source
    harness.cell_by_id(nb, "sigmoid").source = cheat + "\n" + harness.cell_by_id(nb, "sigmoid").source
    return nb


def with_answer(nb, grade_id, source):
    nb = copy.deepcopy(nb)
    harness.cell_by_id(nb, grade_id).source = source
    return nb


def with_code_cell_on_top(nb, code):
    nb = copy.deepcopy(nb)
    nb.cells.insert(0, nbformat.v4.new_code_cell(code))
    return nb


def grade_hostile_class(out):
    solution = harness.read(harness.solution_notebook(ASSIGNMENT))
    stub = harness.read(harness.EXERCISES / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    good = filled_in(stub, solution)
    gradebook = out / "out" / "course" / "gradebook.db"
    bias_mutant = next(m for m in harness.load_mutants(ASSIGNMENT) if m.cell == "dense_forward")
    answer_cells = ["sigmoid", "relu", "neuron_forward", "dense_forward", "mlp_forward",
                    "predict_leaf_or_flower", "predict_salary"]
    nb = lambda node: nbformat.writes(node).encode()
    cases = {
        "s01_Copy of 01_neuron.ipynb": nb(good),
        "s02_2026-11-20T10-00-00_01_neuron.ipynb": nb(stub),           # an early attempt...
        "s02_2026-11-21T09-00-00_01_neuron.ipynb": nb(good),           # ...and the latest
        "s03_01_neuron (1).ipynb": nb(harness.apply_mutant(good, bias_mutant)),
        "s04_01_neuron.ipynb": nb(stub),
        "s05_01_neuron.ipynb": nb(with_relu(good, "", top="while True:\n    pass")),
        "s06_01_neuron.ipynb": nb(with_prefix(good, answer_cells, "import time; time.sleep(15)")),
        "s07_01_neuron.ipynb": nb(with_relu(good, "", top="import os\nos._exit(1)")),
        "s08_01_neuron.ipynb": nb(with_relu(good, "", top="import os\nos.kill(os.getpid(), 9)")),
        "s09_01_neuron.ipynb": nb(with_relu(good, "hoard = bytearray(64 * 1024 ** 3)")),
        "s10_01_neuron.ipynb": nb(with_relu(good, "", top=(
            "import os, time\ntry:\n    while True:\n        if os.fork() == 0:\n"
            "            time.sleep(20)\n            os._exit(0)\nexcept OSError as e:\n"
            "    print('fork refused:', e)"))),
        "s11_01_neuron.ipynb": nb(with_relu(good, "", top="print('x' * 100_000_000)")),
        "s12_01_neuron.ipynb": nb(with_relu(good, "import urllib.request\n"
                                            "urllib.request.urlopen('http://1.1.1.1', timeout=3)")),
        "s13_01_neuron.ipynb": nb(with_relu(good, f"open({str(gradebook)!r}, 'rb').read()")),
        "s14_01_neuron.ipynb": nb(with_relu(good, f"open({str(harness.solution_notebook(ASSIGNMENT))!r}).read()")),
        "s15_01_neuron.ipynb": nb(with_relu(good, f"open({PWNED!r}, 'w').write('pwned')")),
        "s16_01_neuron.ipynb": nb(with_prefix(stub, ["sigmoid"],
                                              "get_ipython().input_transformers_cleanup.append("
                                              "lambda lines: ['pass\\n'])")),
        "s17_01_neuron.ipynb": nb(with_prefix(stub, ["sigmoid"],
                                              "get_ipython().set_custom_exc((BaseException,), "
                                              "lambda *args, **kwargs: None)")),
        "s18_01_neuron.ipynb": nb(with_relu(good, "return Anything()", top=(
            "class Anything:\n    shape = (3,)\n    def __eq__(self, other):\n        return True"))),
        "s19_01_neuron.ipynb": nb(with_prefix(with_relu(good, "return z"), ["relu"],
                                              "import numpy as np\nnp.allclose = lambda *a, **k: True")),
        "s20_01_neuron.ipynb": b"{not json",
        "s21_01_neuron.ipynb": b"",
        "s22_01_neuron.ipynb": nb(harness.read(harness.EXERCISES / "02_learning" / "02_learning.ipynb")),
        "s23_Copy of 01_neuron.ipynb": colabify(good),
        "s24_01_neuron.ipynb": nb(mangled_by_student(good)),
        "s26_01_neuron.ipynb": nb(wrong_everywhere(good, THROUGH_NAMESPACE)),
        "s27_01_neuron.ipynb": nb(wrong_everywhere(good, THROUGH_MAIN_MODULE)),
        "s28_01_neuron.ipynb": nb(wrong_everywhere(good, THROUGH_ALIASES)),
        "s29_01_neuron.ipynb": nb(wrong_everywhere(good, in_every_answer=REBIND_WHEN_CALLED)),
        "s30_01_neuron.ipynb": nb(wrong_everywhere(good, SWALLOW_ERRORS)),
        "s31_01_neuron.ipynb": nb(wrong_everywhere(good, UNHOOK_AND_FORGIVE)),
        "s32_01_neuron.ipynb": nb(wrong_everywhere(good, UNHOOK_AND_REPLACE)),
        "s33_01_neuron.ipynb": nb(with_prefix(with_relu(good, "z = np.asarray(z)"), ["sigmoid"], UNUSUAL_BUT_LEGAL)),
        "s34_01_neuron.ipynb": nb(with_code_cell_on_top(good, "import math\nprint('set up my own things first')")),
        "s35_01_neuron.ipynb": nb(with_answer(good, "relu", REBIND_THE_REFERENCE)),
    }
    archive = out / "lms-download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in cases.items():
            z.writestr(name, data)
    roster = [f"s{i:02d}" for i in range(1, 36)]  # s25 handed nothing in
    settings = grading.Settings(roster=roster, **SETTINGS)
    records = grading.run(ASSIGNMENT, archive, out / "out", settings)
    return out / "out", records, archive, settings


def rows(out):
    with open(out / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def score(out, student):
    return float(rows(out)[student]["score"])


EXPECTED_STATUS = {
    "s01": "graded", "s02": "graded", "s03": "graded", "s04": "graded", "s05": "timeout",
    "s06": "timeout", "s07": "crashed", "s08": "crashed", "s09": "graded", "s10": "graded",
    "s11": "graded", "s12": "graded", "s13": "graded", "s14": "graded", "s15": "graded",
    "s16": "flagged", "s17": "flagged", "s18": "graded", "s19": "flagged", "s20": "invalid",
    "s21": "invalid", "s22": "invalid", "s23": "repaired", "s24": "repaired", "s25": "missing",
    # the checks switched off (issue 10): below full marks or flagged, here both
    "s26": "flagged", "s27": "flagged", "s28": "flagged", "s29": "flagged", "s30": "flagged",
    "s31": "flagged", "s32": "flagged", "s35": "flagged",
    "s33": "graded", "s34": "repaired",  # correct work written unusually
}
SWITCHED_OFF = ["s26", "s27", "s28", "s29", "s30", "s31", "s32", "s35"]


def check_every_case_ends_with_the_expected_status_and_a_message(graded):
    out, records, _, _ = graded
    statuses = {s: r["status"] for s, r in rows(out).items()}
    assert statuses == EXPECTED_STATUS, {s: (statuses.get(s), e) for s, e in EXPECTED_STATUS.items()
                                         if statuses.get(s) != e}
    for student, status in statuses.items():
        page = (out / "feedback" / f"{student}.html").read_text()
        assert status in page, f"{student}: feedback does not state its status"
        if status in ("timeout", "crashed", "invalid", "missing", "flagged", "repaired"):
            record = records[student]
            assert record["messages"] or record["flags"] or record["repairs"], f"{student}: no explanation"


def check_correct_work_gets_full_marks_whatever_the_neighbours_did(graded):
    out, _, _, _ = graded
    for student in ("s01", "s02", "s10", "s11", "s23", "s24", "s33", "s34"):
        assert score(out, student) == FULL, f"{student}: {rows(out)[student]}"


def check_switched_off_checks_earn_nothing_for_the_wrong_answers(graded):
    out, records, _, _ = graded
    for student in SWITCHED_OFF:
        assert score(out, student) < FULL, f"{student}: {rows(out)[student]}"
        assert records[student]["flags"], f"{student}: flagged without a reason"
    # a test cell that showed no error but whose checks did not pass is held back, not credited
    held = [c for s in SWITCHED_OFF for c in records[s]["cells"] if c.get("held_back")]
    assert held and all(c["points"] == 0 and "held back" in c["message"] for c in held)
    for student in ("s31", "s32"):  # no error shows in the kernel (plain nbgrader: 14/14): the record tells
        cells = [c for c in records[student]["cells"] if not c["manual"]]
        assert all(c["points"] == 0 for c in cells) and any(c.get("held_back") for c in cells), cells
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{out / 'course' / 'gradebook.db'}") as gb:
        grades = {g.name: g for g in gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "s32").grades}
        for cell in (c for c in records["s32"]["cells"] if c.get("held_back")):
            assert grades[cell["grade_id"]].needs_manual_grade and grades[cell["grade_id"]].score == 0
    report = (out / "report.md").read_text()
    assert all(f"**{s}** (flagged)" in report for s in SWITCHED_OFF), "the report must list them for review"
    for student in ("s01", "s33", "s34"):  # correct code, however written, is never flagged
        assert not records[student]["flags"], (student, records[student]["flags"])


def check_partial_and_hostile_work_earns_only_what_it_did(graded):
    out, _, _, _ = graded
    table = rows(out)
    assert 0 < score(out, "s03") < FULL and table["s03"]["test_dense_forward"] == "0"
    assert score(out, "s04") == 0
    # the loop stops relu's cell before relu exists: what depends on relu is lost, the rest stands
    assert table["s05"]["test_relu"] == "0" and table["s05"]["test_sigmoid"] == "2" and 0 < score(out, "s05") < FULL
    assert score(out, "s06") == 0, "a notebook over the whole-notebook limit earns nothing"
    for student in ("s07", "s08", "s20", "s21", "s22", "s25"):
        assert score(out, student) == 0, student
    for student in ("s09", "s12", "s13", "s14", "s15"):  # relu fails when called; what needs no relu stands
        assert table[student]["test_relu"] == "0", (student, table[student])
        assert table[student]["test_sigmoid"] == "2" and table[student]["test_dense_forward"] == "2", student
    assert table["s18"]["test_relu"] == "0", "an object that fakes equality must not pass"


def check_sandbox_kept_the_host_safe(graded):
    out, records, _, _ = graded
    assert not Path(PWNED).exists(), "a student wrote outside the sandbox"
    messages = lambda s: " ".join(c["message"] for c in records[s]["cells"])
    assert "MemoryError" in messages("s09")
    assert "Network is unreachable" in messages("s12") or "URLError" in messages("s12")
    assert "No such file" in messages("s13") and "No such file" in messages("s14")
    assert "Read-only" in messages("s15") or "No such file" in messages("s15") or "Permission" in messages("s15")
    leftover = subprocess.run(["pgrep", "-u", "61000,61001"], capture_output=True, text=True).stdout.split()
    assert not leftover, f"sandboxed processes outlived the grading: {leftover}"
    assert (out / "course" / "autograded" / "s11" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").stat().st_size < 1_000_000


def check_feedback_never_shows_hidden_tests(graded):
    out, _, _, _ = graded
    solution = harness.read(harness.solution_notebook(ASSIGNMENT))
    hidden = [line.strip() for c in solution.cells if "BEGIN HIDDEN TESTS" in c.source
              for line in c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
              if len(line.strip()) > 25]
    assert hidden
    for page in (out / "feedback").glob("*.html"):
        text = page.read_text()
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{page.name} shows hidden test code: {leaked[:2]}"


def check_gradebook_agrees_with_grades_csv(graded):
    out, _, _, _ = graded
    db = out / "course" / "gradebook.db"
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{db}") as gb:
        students = {s.id for s in gb.students}
        for student, row in rows(out).items():
            if row["status"] == "missing":
                continue
            assert student in students
            submission = gb.find_submission(ASSIGNMENT, student)
            assert submission.score == pytest.approx(float(row["score"])), student
    report = (out / "report.md").read_text()
    assert "Most frequent failure messages" in report and (out / "report" / "pass_rate.png").stat().st_size > 0


def check_rerun_reuses_results_and_an_interrupted_run_resumes_to_the_same_grades(graded):
    out, _, archive, settings = graded
    before = (out / "grades.csv").read_text()
    grading.run(ASSIGNMENT, archive, out, settings)  # nothing changed: nothing regraded
    assert (out / "grades.csv").read_text() == before
    for student in ("s01", "s03", "s04"):  # as if the run had stopped before these
        (out / "state" / f"{student}.json").unlink()
    records = grading.run(ASSIGNMENT, archive, out, settings)
    assert (out / "grades.csv").read_text() == before, "the same inputs must give the same grades"
    assert {s for s, r in records.items() if "key" in r} >= {"s01", "s03", "s04"}


def test_command_line_reports_a_clear_error_when_the_grader_cannot_run(tmp_path):
    run = lambda *args: subprocess.run([sys.executable, "-m", "autograder", "grade", *args],
                                       capture_output=True, text=True, cwd=harness.REPO)
    missing = run(ASSIGNMENT, str(tmp_path / "nothing.zip"), "--out", str(tmp_path / "o"))
    assert missing.returncode != 0 and "does not exist" in missing.stderr
    unknown = run("99_nope", str(tmp_path), "--out", str(tmp_path / "o"))
    assert unknown.returncode != 0 and "no assignment" in unknown.stderr
    (tmp_path / "roster.csv").write_text("name;email\nAda;ada@example.org\n")
    roster = run(ASSIGNMENT, str(tmp_path), "--out", str(tmp_path / "o"), "--roster", str(tmp_path / "roster.csv"))
    assert roster.returncode != 0 and "no 'student_id' column" in roster.stderr, roster.stderr


def check_formgrader_sees_the_graded_class(graded):
    # formgrader is a front end to nbgrader's API over the course folder the grader wrote
    out, _, _, _ = graded
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(out / "course")).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    submissions = {s["student"]: s for s in api.get_submissions(ASSIGNMENT)}
    assert submissions["s01"]["autograded"] and submissions["s01"]["score"] == FULL
    notebooks = api.get_notebook_submissions(ASSIGNMENT, ASSIGNMENT)
    assert any(n["student"] == "s01" and n["needs_manual_grade"] for n in notebooks), \
        "the written answer must wait for manual grading in formgrader"


def test_grading_a_hostile_class(tmp_path):
    # One grading run serves every check: it takes minutes, and two runs at once (pytest-xdist
    # would split separate tests over its workers) would share the sandbox's user ids.
    graded = grade_hostile_class(tmp_path)
    checks = [check_every_case_ends_with_the_expected_status_and_a_message,
              check_correct_work_gets_full_marks_whatever_the_neighbours_did,
              check_partial_and_hostile_work_earns_only_what_it_did,
              check_switched_off_checks_earn_nothing_for_the_wrong_answers,
              check_sandbox_kept_the_host_safe,
              check_feedback_never_shows_hidden_tests,
              check_gradebook_agrees_with_grades_csv,
              check_formgrader_sees_the_graded_class,
              # last: it regrades part of the class in the same folder
              check_rerun_reuses_results_and_an_interrupted_run_resumes_to_the_same_grades]
    failures = []
    for check in checks:
        try:
            check(graded)
        except AssertionError as problem:
            failures.append(f"{check.__name__}: {problem}")
    assert not failures, "\n\n".join(failures)

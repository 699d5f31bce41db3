"""Did the tests really run? The grader's check of the signed record that the checks cell keeps.

A student's code and the tests share one kernel, so code can replace the course's check helpers
or hide a failing test's error, and nbgrader (which reads only the cells' outputs) would give full
marks. The checks cell (neuron2gpt/checks.py) therefore also writes a record when the grader sets
NEURON2GPT_RECORD: a random key, written once when the cell runs (before any student code), then
one line per check with its verdict, per cell its end, and anything it found replaced, each line
signed with that key (HMAC-SHA256). In the sandbox the kernel may append to the two files but
not read them back, nor remove them.

Outside the kernel, the grader accepts a test cell's points only if the record shows, in that
cell, every check that the model solution's run made there, each passing, and the cell ending
without an error. Otherwise the cell is held back (0 points, waiting for an instructor in
formgrader) and the submission is `flagged`, with the reason.

What it cannot rule out: code that digs the signing state out of the kernel's memory (closures,
gc, frames, ctypes) can write a record of its own. That takes deliberate work, which the static
review (exploits.py) points out to the instructor.
"""
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from nbgrader import utils as nbutils

ENVIRONMENT = "NEURON2GPT_RECORD"
MOUNT = "/run/neuron2gpt-record"  # where a sandboxed kernel sees its notebook's record folder
MAX_RECORD_BYTES = 32 << 20


def prepare(folder):
    """A record folder owned by the grader: the kernel may append to `key` and `record`, nothing more."""
    os.makedirs(folder)
    os.chmod(folder, 0o711)
    for name in ("key", "record"):
        fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o622)
        os.fchmod(fd, 0o622)  # whatever the umask
        os.close(fd)
    return folder


@dataclass
class Line:
    kind: str    # start, check, replaced, end
    count: int   # the execution count of the cell it was written in
    detail: str  # for a check: its name and label
    ok: bool


@dataclass
class Record:
    lines: list = field(default_factory=list)
    problem: str | None = None  # why the record as a whole cannot be trusted


def _read_plain_file(path):
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_RECORD_BYTES + 1)
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError(f"it is larger than {MAX_RECORD_BYTES >> 20} MiB")
    return data.decode("utf-8", errors="replace")


def read(folder):
    """The verified lines of a notebook's record, or the reason it cannot be trusted."""
    try:
        keys = _read_plain_file(os.path.join(folder, "key")).split()
        text = _read_plain_file(os.path.join(folder, "record"))
    except (OSError, ValueError) as problem:
        return Record(problem=f"could not be read ({problem})")
    if not keys:
        return Record(problem="is missing: the checks cell did not run as released")
    if len(keys) > 1:
        return Record(problem=f"was started {len(keys)} times (the checks cell ran again, or code imitated it)")
    try:
        key = bytes.fromhex(keys[0])
    except ValueError:
        return Record(problem="has a damaged key")
    record = Record()
    for number, raw in enumerate(text.splitlines()):
        fields = raw.split("\t")
        signed = "\t".join(fields[:5]).encode()
        good = len(fields) == 6 and hmac.compare_digest(
            fields[5], hmac.new(key, signed, hashlib.sha256).hexdigest())
        if not good or fields[0] != str(number) or not fields[2].lstrip("-").isdigit():
            record.problem = f"was altered (its line {number + 1} is not one the checks wrote)"
            return record
        record.lines.append(Line(fields[1], int(fields[2]), fields[3], fields[4] == "pass"))
    if not record.lines or record.lines[0].kind != "start":
        record.problem = "is empty: the checks cell did not run as released"
    return record


def test_cells(nb):
    """(grade_id, execution count, points earned, max points) of each automatically graded cell."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and nbutils.is_grade(cell) and not nbutils.is_solution(cell):
            points, max_points = nbutils.determine_grade(cell)
            cells.append((cell.metadata.nbgrader["grade_id"], cell.get("execution_count"), points, max_points))
    return cells


def _by_cell(record):
    lines = {}
    for line in record.lines:
        lines.setdefault(line.count, []).append(line)
    return lines


def passing_checks(nb, record):
    """{grade_id: [check, ...]}: what the model solution's run checked in each test cell."""
    lines = _by_cell(record)
    return {gid: [line.detail for line in lines.get(count, []) if line.kind == "check" and line.ok]
            for gid, count, _, _ in test_cells(nb)}


def _first_missing(expected, passed):
    """Index of the first expected check that is not among `passed` in order (None: all there)."""
    remaining = iter(passed)
    for index, check in enumerate(expected):
        if not any(check == seen for seen in remaining):
            return index
    return None


def review(nb, record, reference):
    """(flags, {grade_id: reason}) for the autograded notebook `nb`: which points to hold back."""
    credited = [(gid, count) for gid, count, points, _ in test_cells(nb) if points and points > 0]
    if record.problem:
        held = {gid: f"the record of its checks {record.problem}" for gid, _ in credited}
        return [f"the signed record of the checks {record.problem}"] + _held_flags(held), held
    flags = []
    replaced = [line for line in record.lines if line.kind == "replaced"]
    if replaced:
        flags.append(f"code replaced what the checks rely on (first seen in cell [{replaced[0].count}]): "
                     f"{replaced[0].detail}")
    lines = _by_cell(record)
    held = {}
    for gid, count in credited:
        here = lines.get(count, [])
        reasons = []
        failed = [line.detail for line in here if line.kind == "check" and not line.ok]
        if failed:
            reasons.append(f"its check '{failed[0]}' failed, yet the cell showed no error")
        if any(line.kind == "replaced" for line in here):
            reasons.append("the checks found replaced helpers or hooks in it")
        ends = [line for line in here if line.kind == "end"]
        if not ends:
            reasons.append("its end was not recorded (the checks' cell hooks were removed)")
        elif not ends[-1].ok and not failed:
            reasons.append("it ended with an error that did not show in its output")
        expected = reference.get(gid, [])
        passed = [line.detail for line in here if line.kind == "check" and line.ok]
        missing = _first_missing(expected, passed)
        if missing is not None:
            reasons.append(f"only {missing} of the {len(expected)} checks it runs passed in order; "
                           f"the first missing is '{expected[missing]}'")
        if reasons:
            held[gid] = "; ".join(reasons)
    return flags + _held_flags(held), held


def _held_flags(held):
    return [f"{gid}: its points are held back until an instructor decides: {reason}" for gid, reason in held.items()]


def move_code_below_checks(nb):
    """Put code cells the student placed above the course's checks cell just below it, so that no
    student code runs before the checks start their record. Returns how many were moved."""
    ids = [cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") for cell in nb.cells]
    if "checks" not in ids:
        return 0
    position = ids.index("checks")
    early = [cell for cell in nb.cells[:position]
             if cell.cell_type == "code" and not cell.get("metadata", {}).get("nbgrader", {}).get("locked")]
    for cell in early:
        nb.cells.remove(cell)
    at = ids.index("checks") - len(early) + 1
    nb.cells[at:at] = early
    return len(early)

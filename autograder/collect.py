"""Collect the students' notebooks of one assignment from what an LMS lets instructors download.

    collection = collect(Path("submissions.zip"), ["01_neuron"], roster=read_roster(Path("roster.csv")))
    collection.submissions["s1234567"]["01_neuron"].raw    # the bytes of the latest attempt
    collection.missing, collection.problems, collection.unassigned

The source is a zip or a folder (or one .ipynb). Everything in it is treated as hostile:
nothing is extracted to disk; members are read into memory with caps on each file, on the
total and on the number of members; path traversal, absolute names, links, special files
and encrypted members are skipped and reported; zips inside the source (one per student,
as Canvas and Moodle make them) are opened one level deep. The source is only read.

Whose a file is, from its path:
  - ``id_pattern`` (a regex with a named group ``student``, searched in the path inside the
    source, with "/" between folders) when given;
  - Moodle: ``Jane Doe_123456_assignsubmission_file_`` (folder or file prefix): 123456;
  - Canvas: ``doejane_12345_67890_01_neuron.ipynb`` or ``doejane_LATE_12345_67890_...``:
    12345, the numeric user id (the file is noted as late);
  - Blackboard: ``Assignment 1_s1234567_attempt_2026-11-20-10-15-00_01_neuron.ipynb``;
  - otherwise the first token before "_" of the file name, or, when the file name is just the
    notebook's name ("Copy of 01_neuron (1).ipynb"), of the folder (or student zip) holding it.
Which notebook a file is: its name cleaned of "Copy of ", " (1)", "-1", timestamps and the
student prefix, compared with the assignment's notebook names; UNKNOWN when the name does not
tell (``released=`` lets the content decide). The latest attempt wins: by the time in the file
name, else the zip member's date or the file's mtime, else the copy number.
"""
from __future__ import annotations

import csv
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .repair import MAX_NOTEBOOK_BYTES, best_match

MAX_TOTAL_BYTES = 2 * 1024 ** 3     # everything read, notebooks and inner zips together
MAX_MEMBERS = 20000                 # zip members and files, all levels together
MAX_INNER_ZIP_BYTES = 512 * 1024 ** 2
UNKNOWN = "unknown"                 # notebook name of a file whose name does not tell


class CollectError(ValueError):
    """The source as a whole cannot be read; str() is a plain sentence."""


@dataclass
class Attempt:
    student: str
    notebook: str                   # one of the notebook names, or UNKNOWN
    raw: bytes
    path: str                       # where it came from, e.g. "subs.zip:s1/01_neuron.ipynb"
    timestamp: datetime | None      # the time that ranked it (None: none known)
    others: list[str] = field(default_factory=list)   # paths of the attempts it beat
    notes: list[str] = field(default_factory=list)    # plain sentences
    late: bool = False              # Canvas marked it LATE
    copy_number: int = 0            # the n of " (n)" / "-n"
    order: int = 0                  # position in the source, for stable ordering


@dataclass
class Collection:
    submissions: dict[str, dict[str, Attempt]]
    missing: list[str]
    problems: list[str]
    unassigned: list[Attempt]
    not_in_roster: list[str] = field(default_factory=list)
    superseded: list[Attempt] = field(default_factory=list)   # attempts that lost to a later one


# ---------------------------------------------------------------- names

_TIMESTAMPS = [
    # 2026-11-20T10-15-00, 2026-11-20 10:15:00, 2026-11-20_10.15, 2026-11-20-10-15-00 (Blackboard)
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[T _-](\d{2})[-:.h](\d{2})(?:[-:.m](\d{2}))?(?!\d)"), True),
    # 20261120101500, 20261120_101500, 20261120-1015
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})[_-]?(\d{2})(\d{2})(\d{2})?(?!\d)"), True),
    # 2026-11-20
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"), False),
]
_COPY_PREFIX = re.compile(r"^(?:copy[ _]of[ _]|kopie[ _]von[ _]|copie[ _]de[ _]|copia[ _]de[ _]|cópia[ _]de[ _])+",
                          re.IGNORECASE)
_COPY_NUMBER = re.compile(r"(?:\s*\((\d{1,3})\)|-(\d{1,3}))$")
_MOODLE = re.compile(r"^(?P<name>.*?)_(?P<student>\d+)_assign(?:submission|feedback)_[a-z]+_?(?P<rest>.*)$", re.DOTALL)
_CANVAS = re.compile(r"^(?P<name>[^\W\d_]+)(?P<late>_LATE)?_(?P<student>\d{3,})_(?P<attachment>\d{3,})_(?P<rest>.+)$",
                     re.DOTALL)
_BLACKBOARD = re.compile(r"^(?P<assignment>.+)_(?P<student>[^_]+)_attempt_"
                         r"(?P<ts>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})(?:_(?P<rest>.*))?$", re.DOTALL)


def _find_timestamp(text):
    """(datetime, text without it) for the first plausible timestamp in `text`."""
    for pattern, _ in _TIMESTAMPS:
        for match in pattern.finditer(text):
            parts = [int(p) for p in match.groups() if p is not None]
            try:
                when = datetime(*parts)
            except ValueError:
                continue
            if 1990 <= when.year <= 2100:
                return when, (text[:match.start()] + text[match.end():])
    return None, text


def _key(text):
    """A name reduced for comparison: lower case, runs of spaces, dots, dashes, underscores -> '_'."""
    return re.sub(r"[\s._-]+", "_", text.lower()).strip("_")


def clean_name(stem: str) -> tuple[str, int, datetime | None]:
    """(cleaned name, copy number, timestamp) of a file name without its extension."""
    text = stem.strip()
    when, text = _find_timestamp(text)
    copy_number = 0
    for _ in range(3):
        text = _COPY_PREFIX.sub("", text.strip(" _-"))
        match = _COPY_NUMBER.search(text)
        if match:
            copy_number = max(copy_number, int(match.group(1) or match.group(2)))
            text = text[:match.start()]
    text = re.sub(r"(?:^|_)LATE(?=_|$)", "", text)
    return _key(text), copy_number, when


def _which_notebook(cleaned, notebooks):
    """The notebook a cleaned name is, and the prefix before it ('' when none); (None, None) if none."""
    keys = sorted(((_key(n), n) for n in notebooks), key=lambda t: -len(t[0]))
    for key, name in keys:
        if cleaned == key:
            return name, ""
    for key, name in keys:
        if cleaned.endswith("_" + key):
            return name, cleaned[: -len(key) - 1]
    for key, name in keys:  # "01_neuron_final", "s123_01_neuron_v2"
        index = ("_" + cleaned + "_").find("_" + key + "_")
        if index >= 0:
            return name, cleaned[:max(index - 1, 0)]
    return None, None


@dataclass
class _Identity:
    student: str | None
    notebook: str
    timestamp: datetime | None
    copy_number: int
    late: bool = False
    how: str = ""
    extra_order: int = 0


def identify(path: str, notebooks: list[str], id_pattern: str | None = None) -> _Identity:
    """Whose file `path` (inside the source, "/"-separated) is and which notebook it is."""
    parts = [p for p in path.split("/") if p]
    filename = parts[-1]
    stem = filename[:-6] if filename.lower().endswith(".ipynb") else filename
    folders = [p[:-4] if p.lower().endswith(".zip") else p for p in parts[:-1]]
    student, late, how, rest, attachment = None, False, "", stem, 0

    if id_pattern:
        match = re.search(id_pattern, path)
        if match and match.groupdict().get("student"):
            student, how = match.group("student"), "the id pattern"
    else:
        for segment, is_file in [(stem, True)] + [(f, False) for f in reversed(folders)]:
            moodle = _MOODLE.match(segment)
            if moodle:
                student, how = moodle.group("student"), "Moodle's participant id"
                if is_file:
                    rest = moodle.group("rest")
                break
            canvas = _CANVAS.match(segment)
            if canvas:
                student, how, late = canvas.group("student"), "Canvas's user id", bool(canvas.group("late"))
                attachment = int(canvas.group("attachment"))
                if is_file:
                    rest = canvas.group("rest")
                break
            blackboard = _BLACKBOARD.match(segment)
            if blackboard:
                student, how = blackboard.group("student"), "Blackboard's user name"
                if is_file:
                    rest = blackboard.group("ts") + "_" + (blackboard.group("rest") or "")
                break

    cleaned, copy_number, when = clean_name(rest)
    notebook, prefix = _which_notebook(cleaned, notebooks)
    if student is None and not id_pattern:
        if notebook is not None and prefix:          # "s1234567_01_neuron (1).ipynb"
            student, how = _first_token(stem), "the file name"
        elif folders:                                # "s1234567/Copy of 01_neuron.ipynb"
            student, how = _first_token(folders[-1]), "the folder name"
        elif notebook is None and "_" in _COPY_PREFIX.sub("", stem).strip("_"):
            student, how = _first_token(stem), "the file name"   # "s1234567_homework.ipynb"
    if student is not None:
        student = student.strip()
        if not student or student in (".", "..") or len(student) > 100:
            student = None
    return _Identity(student, notebook or UNKNOWN, when, copy_number, late, how, attachment)


def _first_token(name):
    name = _COPY_PREFIX.sub("", name.strip())
    token = name.split("_", 1)[0].strip()
    return token or None


# ---------------------------------------------------------------- reading the source

@dataclass
class _Entry:
    path: str            # inside the source, "/"-separated
    shown: str           # for messages
    read: object         # () -> bytes, bounded
    size: int
    mtime: datetime | None


class _Budget:
    def __init__(self, max_total, max_members):
        self.left = max_total
        self.members = max_members

    def count(self):
        self.members -= 1
        return self.members >= 0


def _shown(text):
    """A name safe to print: undecodable bytes and control characters escaped."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _skip_silently(parts):
    return any(p == "__MACOSX" or p.startswith(".") or p in ("Thumbs.db", "desktop.ini") for p in parts)


def _zip_name(info):
    name = info.filename
    if not info.flag_bits & 0x800:  # not marked UTF-8: zipfile decoded it as cp437
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/")


def _unsafe(name):
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "its name is an absolute path"
    if ".." in name.split("/"):
        return "its name leads out of the archive (\"..\")"
    if "\x00" in name:
        return "its name is not valid"
    return None


def _zip_entries(zf, label, prefix, problems, budget, depth, max_file):
    """Yield _Entry for the members of an open ZipFile, opening inner zips when depth allows."""
    infos = zf.infolist()
    for info in infos:
        if not budget.count():
            problems.append(f"{label}: more than {MAX_MEMBERS} files; the rest were not read")
            return
        name = _zip_name(info)
        shown = f"{label}:{_shown(name)}"
        if info.is_dir() or name.endswith("/"):
            continue
        parts = [p for p in name.split("/") if p]
        reason = _unsafe(name)
        if reason:
            problems.append(f"{shown} was skipped: {reason}")
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            problems.append(f"{shown} was skipped: it is a symbolic link")
            continue
        if _skip_silently(parts):
            if name.lower().endswith(".ipynb") and "__MACOSX" not in parts:
                problems.append(f"{shown} was skipped: a hidden file or a Jupyter checkpoint")
            continue
        if info.flag_bits & 0x1:
            problems.append(f"{shown} was skipped: it is encrypted")
            continue
        when = None
        try:
            if info.date_time[0] > 1980:
                when = datetime(*info.date_time)
        except ValueError:
            pass
        path = "/".join(prefix + parts)
        lower = name.lower()
        if lower.endswith(".zip"):
            if depth >= 1:
                problems.append(f"{shown} was skipped: a zip inside a zip inside the submissions "
                                "(only one level of nesting is opened)")
                continue
            yield from _inner_zip_entries(lambda info=info: zf.open(info), info.file_size, shown,
                                          prefix + parts, problems, budget, depth + 1, max_file)
            continue
        if not lower.endswith(".ipynb"):
            problems.append(f"{shown} was ignored: not a notebook (.ipynb)")
            continue
        yield _Entry(path, shown, lambda info=info: zf.open(info), info.file_size, when)


def _inner_zip_entries(opener, declared, shown, parts, problems, budget, depth, max_file):
    """The entries of a zip found inside the submissions (a student's own zip), read in memory."""
    data = _bounded_read(opener, declared, min(MAX_INNER_ZIP_BYTES, budget.left), shown, problems, budget)
    if data is None:
        return
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        problems.append(f"{shown} was skipped: it is not a readable zip ({error})")
        return
    with inner:
        yield from _zip_entries(inner, shown, parts, problems, budget, depth, max_file)


def _bounded_read(opener, declared, cap, shown, problems, budget):
    if declared > cap:
        problems.append(f"{shown} was skipped: it is {declared / 1024 / 1024:.1f} MB unpacked, "
                        f"over the {cap / 1024 / 1024:.0f} MB limit")
        return None
    if declared > budget.left:
        problems.append(f"{shown} was skipped: the submissions together exceed the "
                        f"{MAX_TOTAL_BYTES / 1024 ** 3:.0f} GB limit")
        return None
    try:
        with opener() as handle:
            data = handle.read(cap + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, NotImplementedError,
            ValueError) as error:
        problems.append(f"{shown} was skipped: it could not be read ({error})")
        return None
    if len(data) > cap:
        problems.append(f"{shown} was skipped: it is larger than the {cap / 1024 / 1024:.0f} MB limit")
        return None
    budget.left -= len(data)
    return data


def _folder_entries(root, problems, budget, max_file):
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root)
        dir_parts = [os.fsdecode(p) for p in rel_dir.parts]
        keep = []
        for d in sorted(dirnames):
            full = Path(dirpath) / d
            if full.is_symlink():
                problems.append(f"{_shown('/'.join(dir_parts + [d]))}/ was skipped: it is a symbolic link")
            elif not _skip_silently([d]):
                keep.append(d)
        dirnames[:] = keep
        for filename in sorted(filenames):
            if not budget.count():
                problems.append(f"more than {MAX_MEMBERS} files; the rest were not read")
                return
            parts = dir_parts + [filename]
            rel = "/".join(parts)
            shown = _shown(rel)
            full = Path(dirpath) / filename
            try:
                info = full.lstat()
            except OSError as error:
                problems.append(f"{shown} was skipped: {error.strerror}")
                continue
            if stat.S_ISLNK(info.st_mode):
                problems.append(f"{shown} was skipped: it is a symbolic link")
                continue
            if _skip_silently(parts):
                if filename.lower().endswith(".ipynb"):
                    problems.append(f"{shown} was skipped: a hidden file or a Jupyter checkpoint")
                continue
            if not stat.S_ISREG(info.st_mode):
                problems.append(f"{shown} was skipped: not a regular file")
                continue
            when = datetime.fromtimestamp(info.st_mtime)
            lower = filename.lower()
            if lower.endswith(".zip"):
                yield from _inner_zip_entries(lambda full=full: _open_no_follow(full), info.st_size, shown,
                                              parts, problems, budget, 1, max_file)
                continue
            if not lower.endswith(".ipynb"):
                problems.append(f"{shown} was ignored: not a notebook (.ipynb)")
                continue
            yield _Entry(rel, shown, lambda full=full: _open_no_follow(full), info.st_size, when)


def _open_no_follow(path):
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    return os.fdopen(fd, "rb")


def _entries(source, problems, budget, max_file):
    source = Path(source)
    if source.is_symlink() and not source.exists():
        raise CollectError(f"{source} is a broken link")
    if source.is_dir():
        yield from _folder_entries(source, problems, budget, max_file)
    elif source.is_file() and source.suffix.lower() == ".ipynb":
        size = source.stat().st_size
        yield _Entry(source.name, source.name, lambda: _open_no_follow(source), size,
                     datetime.fromtimestamp(source.stat().st_mtime))
    elif source.is_file():
        try:
            zf = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as error:
            raise CollectError(f"{source} is neither a folder nor a readable zip file ({error})") from None
        with zf:
            yield from _zip_entries(zf, source.name, [], problems, budget, 0, max_file)
    else:
        raise CollectError(f"{source} does not exist")


# ---------------------------------------------------------------- collecting

def read_roster(path: Path) -> list[str]:
    """The student ids of a roster CSV: the column `student_id` (other columns are ignored)."""
    text = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    column = next((f for f in reader.fieldnames or [] if f and f.strip().lower() == "student_id"), None)
    if column is None:
        raise CollectError(f"the roster {path} has no 'student_id' column")
    ids, seen = [], set()
    for row in reader:
        value = (row.get(column) or "").strip()
        if value and value.lower() not in seen:
            seen.add(value.lower())
            ids.append(value)
    return ids


def collect(source: Path, notebook_names: list[str], id_pattern: str | None = None,
            roster: list[str] | None = None, released: dict | None = None,
            max_notebook_bytes: int = MAX_NOTEBOOK_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES,
            max_members: int = MAX_MEMBERS) -> Collection:
    """Every student's latest attempt at each notebook of the assignment; see the module docstring.

    `released` ({notebook name: released NotebookNode}) lets files whose names do not say which
    notebook they are be matched by content; without it they stay under UNKNOWN.
    """
    if id_pattern:
        try:
            compiled = re.compile(id_pattern)
        except re.error as error:
            raise CollectError(f"--id-pattern is not a valid regular expression: {error}") from None
        if "student" not in compiled.groupindex:
            raise CollectError("--id-pattern needs a named group 'student', e.g. (?P<student>s\\d{7})")
    problems, attempts, unassigned = [], [], []
    budget = _Budget(max_total_bytes, max_members)
    roster_keys = {r.lower(): r for r in roster or []}
    for order, entry in enumerate(_entries(source, problems, budget, max_notebook_bytes)):
        raw = _bounded_read(entry.read, entry.size, max_notebook_bytes, entry.shown, problems, budget)
        if raw is None:
            continue
        who = identify(entry.path, notebook_names, id_pattern)
        label = f"{Path(source).name}:{entry.path}" if Path(source).is_file() and Path(source).suffix.lower() == ".zip" \
            else entry.path
        attempt = Attempt(who.student or "", who.notebook, raw, _shown(label), who.timestamp or entry.mtime,
                          late=who.late, copy_number=who.copy_number, order=order)
        attempt._rank = (who.timestamp is not None, who.timestamp or entry.mtime or datetime.min,
                         who.extra_order, who.copy_number, order)
        if who.late:
            attempt.notes.append("the LMS marked this file as late")
        if who.student is None:
            attempt.notes.append("whose file this is could not be told from its name or folder"
                                 + (" (the id pattern did not match)" if id_pattern else ""))
            unassigned.append(attempt)
            problems.append(f"{attempt.path}: whose file this is could not be told; it was not graded")
            continue
        if roster_keys.get(who.student.lower()):
            attempt.student = roster_keys[who.student.lower()]
        attempts.append(attempt)

    if released:
        for attempt in attempts:
            if attempt.notebook == UNKNOWN:
                name, score = best_match(attempt.raw, released)
                if name:
                    attempt.notebook = name
                    attempt.notes.append(f"its name does not say which notebook it is; by content it is "
                                         f"{name} ({score:.0%} of the graded cells found)")

    submissions, superseded = {}, []
    groups = {}
    for attempt in attempts:
        groups.setdefault((attempt.student, attempt.notebook), []).append(attempt)
    order_of = {name: i for i, name in enumerate(notebook_names)}
    for (student, notebook), group in sorted(groups.items(), key=lambda kv: (kv[0][0], order_of.get(kv[0][1], 1e9),
                                                                               kv[0][1])):
        group.sort(key=lambda a: a._rank)
        winner = group[-1]
        if len(group) > 1:
            winner.others = [a.path for a in group[:-1]]
            if winner._rank[0]:
                why = "the time in its name"
            elif len({a._rank[1] for a in group}) > 1:
                why = "its date in the archive or on disk"
            elif len({a._rank[2:4] for a in group}) > 1:
                why = "its copy number"
            else:
                why = "its place in the archive (no times or copy numbers to tell)"
            winner.notes.append(f"{len(group)} attempts; this one is the latest by {why}")
            if len({a.raw for a in group}) < len(group):
                winner.notes.append("some attempts are identical")
            for loser in group[:-1]:
                loser.notes.append(f"superseded by {winner.path}")
                superseded.append(loser)
        if notebook == UNKNOWN:
            winner.notes.append("its name does not say which notebook of the assignment it is")
            problems.append(f"{winner.path}: its name does not say which notebook of the assignment it is")
        submissions.setdefault(student, {})[notebook] = winner

    not_in_roster = []
    if roster is not None:
        not_in_roster = sorted(s for s in submissions if s.lower() not in roster_keys)
        for student in not_in_roster:
            for attempt in submissions[student].values():
                attempt.notes.append("the student is not in the roster")
            problems.append(f"{student} is not in the roster; their files are graded anyway")
    missing = sorted(r for r in roster or [] if r not in submissions)
    for attempt in attempts + unassigned:
        del attempt._rank
    return Collection(submissions, missing, problems, unassigned, not_in_roster, superseded)

"""Match a student's notebook back to the released notebook so that nbgrader can grade it.

Students work in Google Colab and Colab changes what it saves: nbformat 4.0 with the cell
ids moved into ``metadata.id``, ``deletable``/``editable`` dropped, ``metadata.colab``,
widget metadata without ``state`` (which fails nbformat validation), another kernelspec.
Students also delete, duplicate, move or retype graded cells, or strip their nbgrader
metadata. ``repair`` rebuilds a valid nbformat 4.5 notebook in which every graded or locked
cell of the released notebook is present exactly once, in the released order, with the
released nbgrader metadata, the student's source in answer cells, and the student's own
cells kept in place. What it changed is reported in plain sentences.

    result = repair(raw_bytes, released_notebook, name="01_neuron")
    result.notebook      # nbformat 4.5 NotebookNode, passes nbformat.validate
    result.repairs       # sentences about graded cells (deleted, duplicated, stripped...)
    result.format_fixes  # sentences about file-format quirks (Colab's nbformat 4.0...)

``InvalidSubmission`` (a ValueError) is raised, with a plain sentence, for a file that is
empty, too large, not JSON, not a notebook, or a notebook of another assignment.
"""
from __future__ import annotations

import copy
import difflib
import json
import re
from dataclasses import dataclass, field

import nbformat
from nbformat.notebooknode import NotebookNode, from_dict

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
MAX_CELLS = 3000
# A submission in which fewer than this share of the released graded cells can be found
# (by grade_id or by content) is taken to be a notebook of another assignment.
MIN_FOUND_SHARE = 0.3
LOCKED_MATCH_RATIO = 0.6   # difflib ratio for recognising a locked cell by its source
ANCHOR_MATCH_RATIO = 0.9   # ... and an ordinary released cell (used only to place cells)
_COMPARE_CHARS = 6000      # compare at most this much of a cell's source
_CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_STUB_LINES = {"# YOUR CODE HERE", "raise NotImplementedError()", "raise NotImplementedError"}
_NBGRADER_KEYS = ("grade", "solution", "locked", "points")


class InvalidSubmission(ValueError):
    """The file cannot be graded as a submission of this notebook; str() is a plain sentence."""


@dataclass
class Repaired:
    notebook: NotebookNode
    repairs: list[str] = field(default_factory=list)       # about graded cells
    format_fixes: list[str] = field(default_factory=list)  # about the file format
    restored: list[str] = field(default_factory=list)      # grade_ids put back from the release

    @property
    def report(self) -> list[str]:
        return self.repairs + self.format_fixes


# ---------------------------------------------------------------- reading

def load(raw: bytes, max_bytes: int = MAX_NOTEBOOK_BYTES) -> dict:
    """The submission as a notebook dict of nbformat 4 (any minor), or InvalidSubmission."""
    if raw is None:
        raise InvalidSubmission("the file is empty")
    if len(raw) > max_bytes:
        raise InvalidSubmission(f"the file is {_megabytes(len(raw))}, over the "
                                f"{_megabytes(max_bytes)} limit for a notebook")
    if not raw.strip():
        raise InvalidSubmission("the file is empty")
    if raw[:4] == b"PK\x03\x04":
        raise InvalidSubmission("the file is a zip archive, not a notebook")
    if raw[:5] == b"%PDF-":
        raise InvalidSubmission("the file is a PDF document, not a notebook")
    try:
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text = raw.decode("utf-16")
        else:
            text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidSubmission("the file is not text (not UTF-8), so it is not a notebook") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidSubmission(f"the file is not valid JSON (line {error.lineno}, column {error.colno}): "
                                "it is damaged or not a notebook") from None
    except RecursionError:
        raise InvalidSubmission("the file is not a notebook (its JSON is nested absurdly deep)") from None
    if not isinstance(data, dict) or not (isinstance(data.get("cells"), list)
                                          or isinstance(data.get("worksheets"), list)):
        raise InvalidSubmission("the file is JSON but not a Jupyter notebook (it has no cells)")
    major = data.get("nbformat")
    if "worksheets" in data and "cells" not in data or major == 3:
        try:
            data = json.loads(nbformat.writes(nbformat.v4.upgrade(from_dict(data), from_version=3)))
        except Exception:
            raise InvalidSubmission("the file is an old (nbformat 3) notebook that could not be read") from None
    if not isinstance(data.get("cells"), list):
        raise InvalidSubmission("the file is JSON but not a Jupyter notebook (it has no cells)")
    if len(data["cells"]) > MAX_CELLS:
        raise InvalidSubmission(f"the notebook has {len(data['cells'])} cells, more than the "
                                f"{MAX_CELLS} a submission may have")
    return data


def _megabytes(n):
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def _text(source):
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        return "".join(s if isinstance(s, str) else str(s) for s in source)
    return "" if source is None else str(source)


def _norm(source):
    """Source compared loosely: trailing spaces and blank lines at either end ignored."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


@dataclass
class _Cell:
    index: int
    cell_type: str
    source: str
    metadata: dict
    id: str | None
    outputs: list
    execution_count: int | None
    attachments: dict | None
    grade_id: str | None       # from the student's nbgrader metadata, if any
    nbgrader: dict | None


def _student_cells(data, fixes):
    cells, seen_colab_id, missing_fields, odd = [], 0, 0, 0
    for index, raw in enumerate(data["cells"]):
        if not isinstance(raw, dict):
            odd += 1
            continue
        cell_type = raw.get("cell_type")
        if cell_type not in ("code", "markdown", "raw"):
            odd += 1
            cell_type = "raw"
        metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        cell_id = raw.get("id") if isinstance(raw.get("id"), str) and _CELL_ID.match(raw.get("id")) else None
        if cell_id is None and isinstance(metadata.get("id"), str) and _CELL_ID.match(metadata["id"]):
            cell_id = metadata["id"]
            seen_colab_id += 1
        if cell_type == "code" and ("outputs" not in raw or "execution_count" not in raw):
            missing_fields += 1
        outputs = raw.get("outputs") if isinstance(raw.get("outputs"), list) else []
        count = raw.get("execution_count")
        count = count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None
        attachments = raw.get("attachments") if isinstance(raw.get("attachments"), dict) else None
        nbg = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else None
        grade_id = nbg.get("grade_id") if nbg and isinstance(nbg.get("grade_id"), str) else None
        cells.append(_Cell(len(cells), cell_type, _text(raw.get("source")), metadata, cell_id,
                           outputs, count, attachments, grade_id, nbg))
    if seen_colab_id:
        fixes.append(f"cell ids taken back from Colab's metadata ({seen_colab_id} cells)")
    if missing_fields:
        fixes.append(f"missing outputs/execution_count fields added ({missing_fields} code cells)")
    if odd:
        fixes.append(f"{odd} unreadable or unknown cell(s) turned into raw cells or dropped")
    return cells


# ---------------------------------------------------------------- recognising cells

def _nbg(cell):
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _is_tracked(cell):
    """A cell nbgrader tracks: graded, answer or locked."""
    meta = _nbg(cell)
    return bool(meta.get("grade_id")) and bool(meta.get("grade") or meta.get("solution") or meta.get("locked"))


def _is_graded(cell):
    meta = _nbg(cell)
    return bool(meta.get("grade") or meta.get("solution"))


_DEF = re.compile(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)|^class\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)",
                  re.MULTILINE)


def _defined_names(source):
    return {next(g for g in m.groups() if g) for m in _DEF.finditer(source)}


def _lines(source):
    return [line.strip() for line in source[:_COMPARE_CHARS * 4].splitlines() if line.strip()][:400]


def _ratio(a, b):
    """Similarity 0..1 of two sources, line by line (fast, and what a person would call similar)."""
    if a == b:
        return 1.0
    a, b = _lines(a), _lines(b)
    if not a or not b:
        return 0.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return 0.0
    return matcher.ratio()


def _kind(cell):
    meta = _nbg(cell)
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    return "read-only"


class _Matcher:
    """Pairs released cells with student cells."""

    def __init__(self, released, student):
        self.released = released
        self.student = student
        self.match = {}        # released index -> student index
        self.how = {}          # released index -> "grade_id" | "content" | "cell id" | "position"
        self.dropped = {}      # student index -> released index it duplicated
        self.claimed = set()   # student indices matched or dropped
        self.notes = []
        self.tracked = [i for i, c in enumerate(released.cells) if _is_tracked(c)]
        self.gid_index = {_nbg(released.cells[i])["grade_id"]: i for i in self.tracked}

    # step A: by nbgrader grade_id
    def by_grade_id(self):
        copies = {}
        for cell in self.student:
            if cell.grade_id in self.gid_index:
                copies.setdefault(self.gid_index[cell.grade_id], []).append(cell.index)
        for r, indices in sorted(copies.items()):
            keep = indices[-1]
            if len(indices) > 1:
                rel = self.released.cells[r]
                gid = _nbg(rel)["grade_id"]
                if _nbg(rel).get("solution"):
                    stub = _norm(rel.source)
                    edited = [i for i in indices if _norm(self.student[i].source) != stub]
                    keep = edited[-1] if edited else indices[-1]
                    which = "the last edited copy" if edited else "the last copy"
                else:
                    same = [i for i in indices if _norm(self.student[i].source) == _norm(rel.source)]
                    keep = same[-1] if same else indices[-1]
                    which = "one copy"
                times = {2: "twice", 3: "three times"}.get(len(indices), f"{len(indices)} times")
                self.notes.append(f"cell '{gid}' appeared {times}; kept {which}")
                for i in indices:
                    if i != keep:
                        self.dropped[i] = r
                        self.claimed.add(i)
            self._take(r, keep, "grade_id")

    def _take(self, r, s, how):
        self.match[r] = s
        self.how[r] = how
        self.claimed.add(s)

    def _free(self, cell):
        return cell.index not in self.claimed and cell.grade_id not in self.gid_index

    # anchors: ordinary released cells, used only to know where things belong
    def anchors(self):
        for r, rel in enumerate(self.released.cells):
            if r in self.gid_index.values():
                continue
            rel_id = rel.get("id")
            found = next((c for c in self.student if self._free(c) and rel_id and c.id == rel_id), None)
            if found is None:
                source = rel.source
                best = max(((_ratio(source, c.source), -c.index, c) for c in self.student
                            if self._free(c) and c.cell_type == rel.cell_type),
                           default=None, key=lambda t: t[:2])
                if best and best[0] >= ANCHOR_MATCH_RATIO:
                    found = best[2]
            if found is not None:
                self._take(r, found.index, "anchor")

    def window(self, r):
        """Student indices strictly between the matched neighbours of released cell r."""
        before = [q for q in self.match if q < r]
        after = [q for q in self.match if q > r]
        low = self.match[max(before)] if before else -1
        high = self.match[min(after)] if after else len(self.student)
        if high <= low:  # the neighbours were moved: look everywhere after the one before
            high = len(self.student)
        return low, high

    # step B: cells whose nbgrader metadata is gone, by content
    def by_content(self):
        for r in self.tracked:
            rel = self.released.cells[r]
            if r in self.match or (_nbg(rel).get("solution") and rel.cell_type == "markdown"):
                continue
            low, high = self.window(r)
            names = _defined_names(rel.source) if _nbg(rel).get("solution") else set()
            candidates = []
            for cell in self.student:
                if not self._free(cell):
                    continue
                same_id = bool(rel.get("id")) and cell.id == rel.get("id")
                if _nbg(rel).get("solution") and names:
                    ok = same_id or names <= _defined_names(cell.source)
                    ratio = _ratio(rel.source, cell.source) if ok else 0.0
                else:
                    ratio = _ratio(rel.source, cell.source)
                    ok = same_id or ratio >= LOCKED_MATCH_RATIO
                if ok:
                    inside = low < cell.index < high
                    distance = 0 if inside else min(abs(cell.index - low), abs(cell.index - high))
                    candidates.append(((same_id, inside, ratio, -distance, -cell.index), cell, same_id))
            if candidates:
                _, cell, same_id = max(candidates, key=lambda t: t[0])
                self._take(r, cell.index, "cell id" if same_id else "content")

    # step C: written answers (markdown), by their place between known cells
    def by_position(self):
        for r in self.tracked:
            rel = self.released.cells[r]
            if r in self.match or not (_nbg(rel).get("solution") and rel.cell_type == "markdown"):
                continue
            same = next((c for c in self.student if self._free(c) and rel.get("id") and c.id == rel.get("id")), None)
            if same is not None:
                self._take(r, same.index, "cell id")
                continue
            low, high = self.window(r)
            inside = [c for c in self.student[low + 1:high] if self._free(c)]
            pick = next((c for c in inside if c.cell_type == "markdown"), None)
            if pick is not None:
                self._take(r, pick.index, "position")

    def found_share(self):
        graded = [r for r in self.tracked if _is_graded(self.released.cells[r])]
        found = [r for r in graded if self.how.get(r) in ("grade_id", "content", "cell id")]
        return len(found), len(graded)


def _lis(pairs):
    """The longest run of (released, student) pairs increasing in both; pairs sorted by released."""
    best = []  # best[i]: longest increasing chain ending at i
    for i, (_, s) in enumerate(pairs):
        prev = max((best[j] for j in range(i) if pairs[j][1] < s), key=len, default=[])
        best.append(prev + [i])
    chain = max(best, key=len, default=[])
    return {pairs[i][0] for i in chain}


# ---------------------------------------------------------------- building the result

def _clean_metadata(metadata):
    meta = {k: copy.deepcopy(v) for k, v in metadata.items()
            if k not in ("id", "colab", "nbgrader", "outputId", "executionInfo", "deletable", "editable")}
    return meta


def _valid_outputs(outputs):
    good = []
    for out in outputs:
        try:
            node = from_dict(copy.deepcopy(out))
            nbformat.v4.nbbase.validate(node, "output")
        except Exception:
            continue
        good.append(node)
    return good


def _cell_ok(cell):
    try:
        nbformat.v4.nbbase.validate(cell, cell.cell_type + "_cell")
        return True
    except Exception:
        return False


def _new_cell(cell_type, source, metadata, cell_id, outputs=(), execution_count=None, attachments=None):
    if cell_type == "code":
        cell = nbformat.v4.new_code_cell(source=source, metadata=metadata, id=cell_id,
                                         outputs=list(outputs), execution_count=execution_count)
    elif cell_type == "markdown":
        cell = nbformat.v4.new_markdown_cell(source=source, metadata=metadata, id=cell_id)
    else:
        cell = nbformat.v4.new_raw_cell(source=source, metadata=metadata, id=cell_id)
    if attachments and cell_type != "code":
        cell.attachments = copy.deepcopy(attachments)
    if not _cell_ok(cell):  # odd outputs, metadata or attachments: keep only what is surely valid
        cell.metadata = {}
        cell.pop("attachments", None)
        if cell_type == "code":
            cell.outputs = []
    return cell


def repair(raw: bytes, released: NotebookNode, name: str | None = None,
           max_bytes: int = MAX_NOTEBOOK_BYTES) -> Repaired:
    """A gradable nbformat 4.5 copy of the student's notebook `raw`; see the module docstring."""
    data = load(raw, max_bytes)
    released = copy.deepcopy(released)
    fixes = _format_fixes(data, released)
    student = _student_cells(data, fixes)
    where = f"{name}" if name else "the released notebook"

    matcher = _Matcher(released, student)
    matcher.by_grade_id()
    matcher.anchors()
    matcher.by_content()
    matcher.by_position()

    found, total = matcher.found_share()
    if not student:
        raise InvalidSubmission("the notebook has no cells")
    if total and found < max(1, MIN_FOUND_SHARE * total):
        ids = [repr(_nbg(released.cells[r])["grade_id"]) for r in matcher.tracked if _is_graded(released.cells[r])]
        some = ", ".join(ids[:4]) + (", ..." if len(ids) > 4 else "")
        raise InvalidSubmission(
            f"this looks like a notebook of another assignment: {'none' if not found else f'only {found}'} "
            f"of the {total} graded cells of {where} ({some}) were found in it")

    repairs = list(matcher.notes)
    pairs = sorted((r, s) for r, s in matcher.match.items())
    in_place = _lis(pairs)
    tracked = set(matcher.tracked)
    by_student = {s: r for r, s in matcher.match.items()}
    pending = [r for r in matcher.tracked if r not in in_place]   # moved or deleted, released order
    restored = [r for r in matcher.tracked if r not in matcher.match]

    for r in matcher.tracked:
        rel = released.cells[r]
        gid = _nbg(rel)["grade_id"]
        how = matcher.how.get(r)
        if how is None:
            if _nbg(rel).get("solution"):
                repairs.append(f"answer cell '{gid}' was deleted; restored as the blank stub, which earns no points")
            else:
                repairs.append(f"{_kind(rel)} cell '{gid}' was deleted; restored from the released notebook")
            continue
        cell = student[matcher.match[r]]
        if how != "grade_id":
            what = {"content": "matched by content", "cell id": "matched by its cell id",
                    "position": "matched by its position"}[how]
            lost = "lost its nbgrader metadata" if not cell.grade_id else \
                f"a wrong grade_id ('{cell.grade_id}')"
            repairs.append(f"cell '{gid}' had {lost}; {what}")
        elif cell.nbgrader:
            changed = [k for k in _NBGRADER_KEYS if cell.nbgrader.get(k) != _nbg(rel).get(k)
                       and not (k == "points" and not _nbg(rel).get("grade"))]
            if changed:
                repairs.append(f"the nbgrader metadata of cell '{gid}' had been changed ({', '.join(changed)}); "
                               "restored")
        if cell.cell_type != rel.cell_type:
            repairs.append(f"cell '{gid}' had been changed from {rel.cell_type} to {cell.cell_type}; "
                           f"changed back to {rel.cell_type}")
        if not _nbg(rel).get("solution") and _norm(cell.source) != _norm(rel.source):
            repairs.append(f"the {_kind(rel)} cell '{gid}' had been edited; grading uses the released version")
        if r not in in_place:
            repairs.append(f"cell '{gid}' had been moved; put back in its released place")

    # The plan: the student's cells in their order, with each tracked released cell in place of
    # the student's copy, and those moved or deleted put back just before the next released cell
    # that follows them in the released order.
    plan, queue, stray = [], list(pending), 0

    def flush(before):
        while queue and queue[0] < before:
            plan.append(("released", queue.pop(0)))

    for cell in student:
        if cell.index in matcher.dropped:
            continue
        r = by_student.get(cell.index)
        if r is not None and r in tracked:
            if r in in_place:
                flush(r)
                plan.append(("released", r))
            continue
        if r is not None and r in in_place:
            flush(r)
        if cell.nbgrader and any(cell.nbgrader.get(k) for k in ("grade", "solution", "locked")):
            stray += 1
        plan.append(("student", cell.index))
    flush(len(released.cells) + 1)
    if stray:
        repairs.append(f"{stray} cell(s) marked for nbgrader are not in {where}; kept as ordinary cells")

    # Released cells keep their released ids; the student's cells keep theirs where still free.
    used_ids = {released.cells[r].get("id") for kind, r in plan if kind == "released"} - {None}

    def unique_id(wanted):
        if wanted and _CELL_ID.match(wanted) and wanted not in used_ids:
            used_ids.add(wanted)
            return wanted
        n = 1
        while f"cell-{n}" in used_ids:
            n += 1
        used_ids.add(f"cell-{n}")
        return f"cell-{n}"

    out = []
    for kind, index in plan:
        if kind == "released":
            rel = released.cells[index]
            meta = copy.deepcopy(dict(rel.metadata))
            s = matcher.match.get(index)
            rel_id = rel.get("id") if rel.get("id") and _CELL_ID.match(rel.get("id")) else unique_id(None)
            if s is not None and _nbg(rel).get("solution"):
                cell = student[s]
                outputs = _valid_outputs(cell.outputs) if cell.cell_type == "code" == rel.cell_type else []
                out.append(_new_cell(rel.cell_type, cell.source, meta, rel_id, outputs,
                                     cell.execution_count if outputs else None, cell.attachments))
            else:
                out.append(_new_cell(rel.cell_type, rel.source, meta, rel_id))
        else:
            cell = student[index]
            out.append(_new_cell(cell.cell_type, cell.source, _clean_metadata(cell.metadata),
                                 unique_id(cell.id),
                                 _valid_outputs(cell.outputs) if cell.cell_type == "code" else (),
                                 cell.execution_count, cell.attachments))
    nb = nbformat.v4.new_notebook(cells=out, metadata=_notebook_metadata(data, released))
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as error:  # a bug here rather than in the submission
        raise InvalidSubmission(f"the notebook could not be repaired into a valid notebook: {error.message}") from None
    return Repaired(nb, repairs, fixes, [_nbg(released.cells[r])["grade_id"] for r in restored])


def _format_fixes(data, released):
    fixes = []
    version = (data.get("nbformat"), data.get("nbformat_minor"))
    if version != (4, 5):
        fixes.append(f"nbformat {version[0]}.{version[1]} upgraded to 4.5")
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    if "colab" in meta or any(isinstance(c, dict) and isinstance(c.get("metadata"), dict) and "colab" in c["metadata"]
                              for c in data["cells"]):
        fixes.append("Colab's metadata removed")
    widgets = meta.get("widgets")
    if widgets is not None:
        state = widgets.get("application/vnd.jupyter.widget-state+json") if isinstance(widgets, dict) else None
        if not (isinstance(state, dict) and "state" in state):
            fixes.append("widget metadata without 'state' removed")
    kernel = meta.get("kernelspec")
    want = released.metadata.get("kernelspec", {}).get("name", "python3")
    if not isinstance(kernel, dict) or kernel.get("name") != want:
        was = kernel.get("name") if isinstance(kernel, dict) and kernel.get("name") else "missing"
        fixes.append(f"kernel set to {want} (was {was})")
    return fixes


def _notebook_metadata(data, released):
    meta = copy.deepcopy(dict(released.metadata))
    meta.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    meta.setdefault("language_info", {"name": "python"})
    widgets = (data.get("metadata") or {}).get("widgets") if isinstance(data.get("metadata"), dict) else None
    if isinstance(widgets, dict) and isinstance(widgets.get("application/vnd.jupyter.widget-state+json"), dict) \
            and "state" in widgets["application/vnd.jupyter.widget-state+json"]:
        candidate = nbformat.v4.new_notebook(metadata={**meta, "widgets": copy.deepcopy(widgets)})
        try:
            nbformat.validate(candidate)
            meta["widgets"] = copy.deepcopy(widgets)
        except nbformat.ValidationError:
            pass
    return meta


# ---------------------------------------------------------------- similarity

def similarity(raw_or_nb, released: NotebookNode) -> float:
    """Share (0..1) of the released notebook's graded cells found in a submission, by grade_id
    or content; 0.0 for a file that is not a notebook. Used to tell which notebook an
    oddly named file is."""
    try:
        if isinstance(raw_or_nb, (bytes, bytearray)):
            data = load(bytes(raw_or_nb))
        else:
            data = json.loads(json.dumps(raw_or_nb))
        matcher = _Matcher(released, _student_cells(data, []))
        matcher.by_grade_id()
        matcher.anchors()
        matcher.by_content()
        found, total = matcher.found_share()
        return found / total if total else 0.0
    except (InvalidSubmission, ValueError, TypeError, KeyError):
        return 0.0


def best_match(raw: bytes, released: dict[str, NotebookNode]) -> tuple[str | None, float]:
    """(name, score) of the released notebook a submission resembles most, or (None, 0.0)."""
    scores = sorted(((similarity(raw, nb), name) for name, nb in released.items()), key=lambda t: (-t[0], t[1]))
    if not scores or scores[0][0] < MIN_FOUND_SHARE:
        return None, scores[0][0] if scores else 0.0
    return scores[0][1], scores[0][0]

"""What a grading run leaves behind: grades.csv, feedback pages and the class report."""
import collections
import csv
import html
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .gradebook import safe_name  # noqa: E402



def grade_columns(course):
    """[(notebook, grade_id, max_points)] in notebook order: one column per graded part."""
    columns = []
    with course.gradebook() as gb:
        assignment = gb.find_assignment(course.assignment)
        for notebook in sorted(assignment.notebooks, key=lambda n: n.name):
            cells = {c.name: c.max_score for c in notebook.grade_cells}
            released = course.released(notebook.name)
            order = [c.metadata.nbgrader["grade_id"] for c in released.cells
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
            columns += [(notebook.name, gid, cells[gid]) for gid in order if gid in cells]
    return columns


def gradebook_scores(course, student, columns):
    scores = {}
    with course.gradebook() as gb:
        for name in {c[0] for c in columns}:
            try:
                nb = gb.find_submission_notebook(name, course.assignment, student)
            except Exception:  # noqa: BLE001 - no submission: nothing earned
                continue
            for g in nb.grades:
                # a written answer nobody has graded yet stays blank rather than 0
                pending = g.manual_score is None and g.auto_score is None
                scores[(name, g.name)] = None if pending else g.score
    return scores


def write_outputs(out, course, records, collection, meanings):
    out = Path(out)
    columns = grade_columns(course)
    several = len({c[0] for c in columns}) > 1
    label = (lambda nb, gid: f"{nb}:{gid}") if several else (lambda nb, gid: gid)
    max_total = sum(c[2] for c in columns)
    rows = []
    for student in sorted(records):
        record = records[student]
        scores = gradebook_scores(course, student, columns) if record["status"] != "missing" else {}
        row = {"student_id": student}
        for nb, gid, _ in columns:
            value = scores.get((nb, gid))
            row[label(nb, gid)] = "" if value is None and record["status"] != "missing" else f"{value or 0:g}"
        row["score"] = f"{sum(v or 0 for v in scores.values()):g}"
        row["max_score"] = f"{max_total:g}"
        row["status"] = record["status"]
        rows.append(row)
        record["score"], record["max_score"] = float(row["score"]), max_total
    with open(out / "grades.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student_id"] + [label(n, g) for n, g, _ in columns]
                                + ["score", "max_score", "status"])
        writer.writeheader()
        writer.writerows(rows)
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for student, record in records.items():
        (feedback / f"{safe_name(student)}.html").write_text(feedback_page(course.assignment, record, meanings))
    write_class_report(out, course.assignment, records, columns, collection, meanings)


def feedback_page(assignment, record, meanings):
    """A student's feedback: scores and check messages, never the code of hidden checks."""
    e = html.escape
    parts = []
    for cell in record.get("cells", []):
        if cell.get("manual"):
            verdict = "graded by your instructor"
        elif cell["points"] == cell["max_points"]:
            verdict = "passed"
        else:
            verdict = e(cell["message"] or "failed")
        points = "" if cell["points"] is None else f"{cell['points']:g}"
        parts.append(f"<tr><td>{e(cell['grade_id'])}</td><td>{points} / {cell['max_points']:g}</td>"
                     f"<td>{verdict}</td></tr>")
    lists = ""
    for title, items in (("About your submission", record.get("messages", [])),
                         ("Repairs made so that your notebook could be graded", record.get("repairs", [])),
                         ("Flagged for your instructor's review", record.get("flags", []))):
        if items:
            lists += f"<h2>{title}</h2><ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>"
    score = record.get("score")
    total = f"<p><b>Automatic score: {score:g} / {record.get('max_score', 0):g}</b></p>" if score is not None else ""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(assignment)}: {e(record['student'])}</title>"
            "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}td,th{border:1px solid #ccc;"
            "padding:.3em .6em;vertical-align:top}table{border-collapse:collapse}</style></head><body>"
            f"<h1>{e(assignment)}: feedback for {e(record['student'])}</h1>"
            f"<p>Status: <b>{e(record['status'])}</b> ({e(meanings.get(record['status'], ''))}).</p>{total}"
            "<table><tr><th>part</th><th>points</th><th>result</th></tr>" + "".join(parts) + "</table>"
            + lists + "<p>Hidden checks use other inputs than the visible ones; their messages say what "
            "went wrong without showing their code.</p></body></html>\n")


def _normalise(message):
    """Group failure messages that differ only in numbers."""
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "#", message)[:160]


def write_class_report(out, assignment, records, columns, collection, meanings):
    folder = out / "report"
    folder.mkdir(exist_ok=True)
    graded = [r for r in records.values() if r["status"] != "missing"]
    max_total = sum(c[2] for c in columns)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([r["score"] for r in graded], bins=min(20, max(5, int(max_total) + 1)), range=(0, max_total),
            color="#4878d0", edgecolor="white")
    ax.set(xlabel=f"automatic score (of {max_total:g})", ylabel="students", title=f"{assignment}: scores")
    fig.tight_layout()
    fig.savefig(folder / "score_distribution.png", dpi=100)
    plt.close(fig)

    auto_columns = [(nb, gid, mx) for nb, gid, mx in columns
                    if any(c["grade_id"] == gid and not c.get("manual") for r in graded for c in r["cells"])]
    pass_rates = []
    for nb, gid, mx in auto_columns:
        passed = sum(1 for r in graded for c in r["cells"]
                     if c["grade_id"] == gid and c["points"] == c["max_points"])
        pass_rates.append((gid, passed / len(graded) if graded else 0.0))
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(pass_rates) + 1.2))
    ax.barh([g for g, _ in pass_rates][::-1], [p for _, p in pass_rates][::-1], color="#6acc64")
    ax.set(xlim=(0, 1), xlabel="share of submissions passing", title="pass rate per part")
    fig.tight_layout()
    fig.savefig(folder / "pass_rate.png", dpi=100)
    plt.close(fig)

    failures = collections.Counter()
    for r in graded:
        for c in r["cells"]:
            if not c.get("manual") and c["points"] != c["max_points"]:
                failures[(c["grade_id"], _normalise(c["message"] or "failed"))] += 1
    statuses = collections.Counter(r["status"] for r in records.values())
    scores = sorted(r["score"] for r in graded)
    median = scores[len(scores) // 2] if scores else 0
    lines = [f"# Class report: {assignment}", "",
             f"{len(graded)} submissions graded, {statuses.get('missing', 0)} missing; "
             f"median automatic score {median:g} of {max_total:g}.", "",
             "| status | students | meaning |", "| --- | ---: | --- |"]
    lines += [f"| {s} | {statuses[s]} | {meanings[s]} |" for s in meanings if statuses.get(s)]
    lines += ["", "![score distribution](report/score_distribution.png)", "",
              "![pass rate per part](report/pass_rate.png)", "",
              "## Most frequent failure messages", "", "| part | message | students |", "| --- | --- | ---: |"]
    lines += [f"| {gid} | {msg.replace('|', '/')} | {n} |" for (gid, msg), n in failures.most_common(15)]
    review = [r for r in records.values()
              if r["status"] in ("flagged", "crashed", "invalid", "timeout") or r.get("hints")]
    if review:
        lines += ["", "## Submissions to look at", "",
                  "Flags come from the signed record of the checks and hold points back; hints come from "
                  "reading the code and change nothing by themselves.", ""]
        for r in sorted(review, key=lambda r: r["student"]):
            details = "; ".join(r["messages"] + r["flags"] + [f"hint: {h}" for h in r.get("hints", [])])
            lines.append(f"- **{r['student']}** ({r['status']}): {details}")
    if collection.problems:
        lines += ["", "## Files that were not graded", ""] + [f"- {p}" for p in collection.problems]
    (out / "report.md").write_text("\n".join(lines) + "\n")

import argparse
import sys

from . import release as release_module


def parse_size(text):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower().removesuffix("b").removesuffix("i")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description="Course grading tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="generate exercises/ from solutions/ with nbgrader")
    rel.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")

    grade = commands.add_parser("grade", help="grade an LMS download of submissions",
                                description="Grade every submission of one assignment: grades.csv, "
                                            "feedback/, report.md and an nbgrader gradebook in OUT.")
    grade.add_argument("assignment", help="e.g. 01_neuron (a folder of solutions/)")
    grade.add_argument("submissions", help="the zip or folder downloaded from the LMS")
    grade.add_argument("--out", required=True, help="folder for the results (reused by a rerun)")
    grade.add_argument("--roster", help="CSV with a student_id column: lists who is missing")
    grade.add_argument("--id-pattern", help="regex with a named group 'student' for file names the "
                                            "built-in LMS formats do not cover")
    grade.add_argument("--workers", type=int, help="students graded at once (default: one per core)")
    grade.add_argument("--cell-timeout", type=int, default=60, help="seconds per cell (default 60)")
    grade.add_argument("--notebook-timeout", type=int, default=600,
                       help="seconds per student's whole submission (default 600)")
    grade.add_argument("--memory", default="8G", help="address-space limit of a student's kernel (default 8G)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run student code without the sandbox (only for code you trust)")
    args = parser.parse_args(argv)

    if args.command == "release":
        if args.check:
            problems = release_module.differences()
            for line in problems:
                print(f"exercises/{line}")
            if problems:
                sys.exit("exercises/ is out of date: run `python -m autograder release` and commit the result")
            print("exercises/ matches solutions/")
        else:
            release_module.release()
            print("exercises/ regenerated from solutions/")
    elif args.command == "grade":
        from . import grade as grading
        from .collect import CollectError, read_roster
        try:
            roster = read_roster(args.roster) if args.roster else None
        except (CollectError, OSError) as problem:
            sys.exit(f"autograder: {problem}")
        settings = grading.Settings(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                                    memory_bytes=parse_size(args.memory), sandbox=not args.no_sandbox,
                                    id_pattern=args.id_pattern, roster=roster)
        if args.workers:
            settings.workers = args.workers
        try:
            records = grading.run(args.assignment, args.submissions, args.out, settings)
        except grading.GradingError as problem:
            sys.exit(f"autograder: {problem}")
        counts = {}
        for record in records.values():
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        print(f"{len(records)} students: {summary}. Results in {args.out}: grades.csv, feedback/, report.md; "
              f"written answers: cd {args.out}/course && nbgrader formgrader")


if __name__ == "__main__":
    main()

import argparse
import sys

from . import release as release_module


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description="Course grading tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="generate exercises/ from solutions/ with nbgrader")
    rel.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")
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


if __name__ == "__main__":
    main()

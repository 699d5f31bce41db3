"""The course's nbgrader set-up and the instructors' tools.

    python -m autograder release          # regenerate exercises/ from solutions/
    python -m autograder release --check  # fail if exercises/ differs from what nbgrader makes
"""

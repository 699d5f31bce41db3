"""The course's nbgrader set-up and the instructors' tools.

    python -m autograder release          # regenerate exercises/ from solutions/
    python -m autograder release --check  # fail if exercises/ differs from what nbgrader makes
"""
import os
import sys

# nbgrader's gradebook runs the `alembic` command, which is installed beside this
# interpreter: make it findable also when the virtual environment is not activated.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

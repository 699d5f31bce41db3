"""The nbgrader course folder that one grading run owns, and fast gradebook access."""
import functools
import shutil
import warnings
from pathlib import Path

import nbformat
from nbgrader import api as nbgrader_api
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from .release import REPO, nbgrader_config

SOLUTIONS = REPO / "solutions"

# nbgrader's gradebook code trips SQLAlchemy's session warnings on every submission; they
# say nothing to an instructor and would bury the progress bar.
warnings.filterwarnings("ignore", message=".*not in session.*")

# nbgrader runs the `alembic heads` command every time it opens a gradebook, to learn the
# schema version of its own migrations: a constant for the installed nbgrader, and about
# half a second each time, several times per student. Ask once.
nbgrader_api.get_alembic_version = functools.lru_cache(maxsize=None)(nbgrader_api.get_alembic_version)


def course_config(root, **overrides):
    """nbgrader config for a course folder at `root` that grades this repository's assignments."""
    root = Path(root).resolve()
    settings = dict(root=str(root), source_directory=str(SOLUTIONS), release_directory="release",
                    db_url=f"sqlite:///{root}/gradebook.db")
    settings.update(overrides)
    return nbgrader_config(**settings)


def safe_name(student):
    """A student id as a file name: ids come from uploaded file names, so trust none."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in student)


def notebook_names(assignment):
    return sorted(p.stem for p in (SOLUTIONS / assignment).glob("*.ipynb"))


class Course:
    """<out>/course: the real gradebook.db, the released copies, the autograded notebooks."""

    def __init__(self, root, assignment):
        self.root = Path(root).resolve()
        self.assignment = assignment
        self.config = course_config(self.root)
        self.db_url = self.config.CourseDirectory.db_url

    def prepare(self):
        """Record the assignment in the gradebook (once) and keep a student-free template of it."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.template.exists():
            api = NbGraderAPI(coursedir=CourseDirectory(config=self.config), config=self.config)
            result = api.generate_assignment(self.assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment failed:\n{result.get('log')}\n{result.get('error')}")
            shutil.copyfile(self.root / "gradebook.db", self.template)
        self._write_formgrader_config()

    @property
    def template(self):
        return self.root / f".{self.assignment}-template.db"

    def released(self, notebook):
        return nbformat.read(str(self.root / "release" / self.assignment / f"{notebook}.ipynb"), as_version=4)

    def autograded_dir(self, student):
        return self.root / "autograded" / student / self.assignment

    def gradebook(self):
        return nbgrader_api.Gradebook(self.db_url)

    def _write_formgrader_config(self):
        # So that `cd <out>/course && nbgrader formgrader` opens this run's gradebook.
        (self.root / "nbgrader_config.py").write_text(
            "# Written by `python -m autograder grade`: grade the written answers with\n"
            "#     cd this folder && nbgrader formgrader\n"
            "c = get_config()  # noqa: F821\n"
            f"load_subconfig({str(REPO / 'autograder' / 'nbgrader_config.py')!r})  # noqa: F821\n"
            f"c.CourseDirectory.root = {str(self.root)!r}\n"
            f"c.CourseDirectory.source_directory = {str(SOLUTIONS)!r}\n"
            "c.CourseDirectory.release_directory = 'release'\n"
            f"c.CourseDirectory.db_url = {self.db_url!r}\n")

"""Generate the student notebooks in exercises/ from solutions/ with nbgrader.

The gradebook that generate_assignment needs is a throwaway: the real one belongs
to an instructor's grading run, not to the repository.
"""
import filecmp
import shutil
import tempfile
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from .badge import ColabBadge

REPO = Path(__file__).resolve().parent.parent
CONFIG_FILE = Path(__file__).resolve().parent / "nbgrader_config.py"


def nbgrader_config(**overrides):
    """The course's nbgrader config, with CourseDirectory settings overridden."""
    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    for key, value in overrides.items():
        setattr(config.CourseDirectory, key, value)
    return config


def assignments():
    source = REPO / "solutions"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate(release_root, names=None):
    """Write exercises/<assignment>/ for each assignment under `release_root`; returns the names."""
    names = names or assignments()
    with tempfile.TemporaryDirectory(prefix="nbgrader-release-") as scratch:
        config = nbgrader_config(release_directory=str(Path(release_root).resolve()),
                                 db_url=f"sqlite:///{scratch}/gradebook.db")
        # The copies that students open in Colab start with an "Open in Colab" badge. It is
        # added here rather than in nbgrader_config.py so that instructors running nbgrader
        # by hand need nothing of this package on their Python path.
        config.GenerateAssignment.preprocessors = (
            list(GenerateAssignment.class_traits()["preprocessors"].make_dynamic_default()) + [ColabBadge])
        coursedir = CourseDirectory(config=config)
        api = NbGraderAPI(coursedir=coursedir, config=config)
        for name in names:
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader could not generate {name}:\n{result.get('log', '')}\n{result.get('error', '')}")
    return names


def release():
    """Regenerate exercises/ in place."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        target = REPO / "exercises"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(tmp, target)


def differences():
    """Files of exercises/ that differ from what nbgrader generates from solutions/ now."""
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        return _diff_trees(filecmp.dircmp(tmp, REPO / "exercises"), Path())


def _diff_trees(cmp, prefix):
    problems = [f"{prefix / n}: only in the generated copy" for n in cmp.left_only]
    problems += [f"{prefix / n}: not generated from solutions/ (stale or hand-made)" for n in cmp.right_only]
    problems += [f"{prefix / n}: differs from what nbgrader generates" for n in cmp.diff_files]
    for name, sub in cmp.subdirs.items():
        problems += _diff_trees(sub, prefix / name)
    return problems

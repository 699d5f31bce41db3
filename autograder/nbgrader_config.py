# nbgrader configuration of the course. Paths are relative to the repository root:
# solutions/ holds the source notebooks (model solutions, visible and hidden tests),
# exercises/ the student copies that nbgrader generates from them.
import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

c.CourseDirectory.root = REPO
c.CourseDirectory.course_id = "neuron2gpt"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# Only the notebook travels to students; authoring notes stay behind.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.md"]

# The stub students see in place of each solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Generous per-cell limit: graded training cells take their short schedule
# (NBGRADER_EXECUTION is set), but a slow laptop should not time out.
c.Execute.timeout = 120
# A library warning on stderr would otherwise zero a test cell.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"Warning"

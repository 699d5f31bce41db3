"""nbgrader preprocessor: put an "Open in Colab" badge at the top of a student copy."""
import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from .book import colab_url

BADGE_ID = "colab-badge"


class ColabBadge(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        path = f"exercises/{info['assignment']}/{info['notebook']}.ipynb"
        badge = nbformat.v4.new_markdown_cell(
            f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(path)})",
            id=BADGE_ID)
        nb.cells = [badge] + [cell for cell in nb.cells if cell.get("id") != BADGE_ID]
        return nb, resources

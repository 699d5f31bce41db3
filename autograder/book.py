"""Facts about the book that several tools need, read from _config.yml."""
from functools import lru_cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=None)
def config():
    return yaml.safe_load((REPO / "_config.yml").read_text())


def colab_url(path):
    """The Colab link of a notebook of this repository, e.g. 'exercises/01_neuron/01_neuron.ipynb'.

    One setting decides every Colab link: repository.url (and .branch) in _config.yml,
    the same setting Jupyter Book uses for its launch buttons.
    """
    repository = config()["repository"]
    github = repository["url"].rstrip("/").removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{github}/blob/{repository['branch']}/{path}"

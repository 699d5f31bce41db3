# Course data: downloaded once, checked against its SHA-256, cached
# (source of truth: neuron2gpt/data.py).
# Where there is no network (CI, the course's build machines) set NEURON2GPT_DATA_MIRROR
# to a folder that holds the same files; they are read from there and checked alike.
import hashlib
import os
import shutil
import urllib.request
from pathlib import Path

DATASETS = {
    # name: (url, sha256)
    "tinyshakespeare.txt": (
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
}
CACHE = Path(os.environ.get("NEURON2GPT_CACHE", Path.home() / ".cache" / "neuron2gpt"))


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(name):
    """Path to a verified local copy of data set `name`, fetching it the first time."""
    url, sha256 = DATASETS[name]
    target = CACHE / name
    if target.exists() and _sha256(target) == sha256:
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    mirror = os.environ.get("NEURON2GPT_DATA_MIRROR")
    if mirror:
        shutil.copyfile(Path(mirror) / name, partial)
    else:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as f:
            shutil.copyfileobj(response, f)
    actual = _sha256(partial)
    if actual != sha256:
        partial.unlink()
        raise RuntimeError(f"{name}: checksum mismatch (expected {sha256}, got {actual}); "
                           f"the file at {mirror or url} is not the one this course was written for.")
    partial.replace(target)
    return target


def load_text(name="tinyshakespeare.txt"):
    return fetch(name).read_text(encoding="utf-8")

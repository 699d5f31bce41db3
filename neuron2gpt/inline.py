"""Keep the notebooks' copies of shared modules identical to the modules.

    python -m neuron2gpt.inline           # rewrite every marked cell
    python -m neuron2gpt.inline --check   # exit 1 and list the cells that drifted

A marked cell has metadata {"neuron2gpt": {"inline": "<module>"}} and holds the
source of neuron2gpt/<module>.py verbatim. On the chapter pages such cells also carry the
tag "hide-input": the rendered book folds the set-up code away.

A module may be cut into parts by lines "# %% <part>". The chapter that teaches the code shows
one part per cell, in the open, with metadata {"neuron2gpt": {"inline": "<module>", "part":
"<part>"}}: such a cell holds the lines after that marker up to the next one (blank lines at
either end dropped). Other notebooks carry the whole module, hidden.
"""
import argparse
import sys
from pathlib import Path

import nbformat

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
NOTEBOOK_DIRS = ("book", "solutions")  # exercises/ are generated from solutions/


def module_parts(name):
    """{part: its text} of neuron2gpt/<name>.py, cut at its lines "# %% <part>" ({} when it has none)."""
    parts, current = {}, None
    for line in (PACKAGE / f"{name}.py").read_text().split("\n"):
        if line.startswith("# %% "):
            current = line[len("# %% "):].strip()
            parts[current] = []
        elif current is not None:
            parts[current].append(line)
    return {part: "\n".join(lines).strip("\n") for part, lines in parts.items()}


def module_source(name, part=None):
    if part is None:
        return (PACKAGE / f"{name}.py").read_text().rstrip("\n")
    parts = module_parts(name)
    if part not in parts:
        raise KeyError(f"neuron2gpt/{name}.py has no part {part!r} (its parts: {', '.join(parts)})")
    return parts[part]


def marked_cells(nb):
    for cell in nb.cells:
        marker = cell.get("metadata", {}).get("neuron2gpt", {})
        if marker.get("inline"):
            yield cell, marker["inline"], marker.get("part")


def notebooks():
    for folder in NOTEBOOK_DIRS:
        for path in sorted((REPO / folder).rglob("*.ipynb")):
            yield folder, path


def sync(check_only=False):
    """Returns the (notebook, module) pairs whose copy differed from the module."""
    drifted = []
    for folder, path in notebooks():
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = nbformat.read(str(path), as_version=4)
        changed = False
        for cell, name, part in marked_cells(nb):
            label = f"{name}.py" if part is None else f"{name}.py, part {part}"
            # whole modules are set-up code, folded away; a part is the chapter's own code, shown
            if folder == "book" and part is None and "hide-input" not in cell.metadata.get("tags", []):
                drifted.append((path.relative_to(REPO), label))
                cell.metadata.setdefault("tags", []).append("hide-input")
                changed = True
            source = module_source(name, part)
            if cell.source != source:
                drifted.append((path.relative_to(REPO), label))
                cell.source = source
                changed = True
        if changed and not check_only:
            nbformat.write(nb, str(path))
    return drifted


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    drifted = sync(check_only=args.check)
    for path, name in drifted:
        print(f"{path}: copy of neuron2gpt/{name} {'differs' if args.check else 'updated'}")
    if args.check and drifted:
        sys.exit(1)


if __name__ == "__main__":
    main()

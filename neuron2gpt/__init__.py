"""neuron2gpt: the few pieces of code that several notebooks of the course share.

Exercise and chapter notebooks must run alone in Colab, where this package does
not exist, so they never import it. Instead each notebook carries a verbatim copy
of the module it needs in a cell whose metadata says ``{"neuron2gpt": {"inline":
"<module>"}}``; ``python -m neuron2gpt.inline`` rewrites those cells from the
modules here and the test suite fails when a copy drifts. The modules are thus
the one source of truth, and the notebooks stay self-contained. A chapter that teaches a
module's code shows it part by part (``"part": "<name>"``, for the lines after ``# %% <name>``).
"""

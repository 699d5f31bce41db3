# Checks used by the exercise tests (source of truth: neuron2gpt/checks.py).
# Each check raises AssertionError with a sentence that says what is wrong, so a
# failing test cell tells you what to fix. Types are checked exactly
# (`type(x) is np.ndarray`), so an object that only pretends to be equal earns nothing.
import contextlib
import math
import sys

import numpy as np
import torch
from torch.overrides import TorchFunctionMode


def _describe(value):
    return type(value).__name__


def _as_different_text(expected, got):
    """The two numbers printed with as many digits as it takes to tell them apart (6 to 17)."""
    for digits in (6, 10, 17):
        text = f"{float(expected):.{digits}g}", f"{float(got):.{digits}g}"
        if text[0] != text[1]:
            break
    return text


def check_type(name, value, expected_type):
    assert type(value) is expected_type, (
        f"{name} should be a {expected_type.__module__}.{expected_type.__name__}, "
        f"but it is a {_describe(value)}.")


def check_shape(name, value, expected_shape):
    got, expected = tuple(value.shape), tuple(expected_shape)
    if got == expected:
        return
    hint = ""
    if sorted(got) == sorted(expected):
        hint = " The sizes are right but in the wrong order: check which axis is which."
    elif math.prod(got) == math.prod(expected):
        hint = " It holds the right number of values: check your reshape."
    raise AssertionError(f"{name}: expected shape {expected}, got {got}.{hint}")


def check_close(name, got, expected, atol=1e-6, rtol=1e-5):
    """Same type (NumPy array or torch tensor) as `expected`, same shape, close values."""
    expected_type = type(expected)
    check_type(name, got, expected_type)
    check_shape(name, got, expected.shape)
    if expected_type is torch.Tensor:
        got = got.detach().cpu().double().numpy()
        expected = expected.detach().cpu().double().numpy()
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert not np.isnan(got).any(), f"{name} contains NaN: look for 0/0, log(0) or an overflow."
    assert not np.isinf(got).any() or np.isinf(expected).any(), (
        f"{name} contains inf: a value overflowed (exp of a large number?).")
    if np.allclose(got, expected, atol=atol, rtol=rtol):
        return
    error = np.abs(got - expected)
    worst = np.unravel_index(np.argmax(error), error.shape) if error.ndim else ()
    shown_expected, shown_got = _as_different_text(expected[worst], got[worst])
    raise AssertionError(
        f"{name} has the right shape but wrong values: at index {tuple(int(i) for i in worst)} "
        f"expected {shown_expected}, got {shown_got} "
        f"(largest difference {error.max():.3g}, allowed {atol:g} + {rtol:g}*|expected|).")


def check_equal(name, got, expected):
    """Exactly equal: integer or boolean arrays and tensors (labels, ids, masks), strings, lists."""
    check_type(name, got, type(expected))
    if type(expected) in (np.ndarray, torch.Tensor):
        check_shape(name, got, expected.shape)
        assert got.dtype == expected.dtype, f"{name}: expected dtype {expected.dtype}, got {got.dtype}."
        got_np = got.detach().cpu().numpy() if type(got) is torch.Tensor else got
        expected_np = expected.detach().cpu().numpy() if type(expected) is torch.Tensor else expected
        wrong = np.argwhere(got_np != expected_np)
        if len(wrong):
            first = tuple(int(i) for i in wrong[0])
            raise AssertionError(f"{name}: {len(wrong)} of {got_np.size} values differ; first at index {first}: "
                                 f"expected {expected_np[first].item()!r}, got {got_np[first].item()!r}.")
        return
    if got != expected:
        if type(expected) in (str, list, tuple) and len(got) != len(expected):
            raise AssertionError(f"{name}: expected length {len(expected)}, got {len(got)}.")
        if type(expected) in (str, list, tuple):
            first = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
            raise AssertionError(f"{name}: first difference at position {first}: "
                                 f"expected {expected[first]!r}, got {got[first]!r}.")
        raise AssertionError(f"{name}: expected {expected!r}, got {got!r}.")


def check_scalar(name, got, expected, atol=1e-6, rtol=1e-5):
    """A plain Python float (or int) close to `expected`."""
    assert type(got) in (float, int), (
        f"{name} should be a Python float, but it is a {_describe(got)}"
        " (convert with float(...) for a NumPy number, or .item() for a tensor).")
    assert not math.isnan(got), f"{name} is NaN."
    assert math.isclose(got, expected, abs_tol=atol, rel_tol=rtol), (
        "{}: expected {}, got {}.".format(name, *_as_different_text(expected, got)))


def check_true(condition, message):
    """Assert a property; `message` says in plain words what is wrong when it fails."""
    assert condition is True or condition is np.True_, message


# Rules such as "by hand", "NumPy only" or "without nn.GRUCell" are checked, not just stated:
# the student's function runs under a guard that sees every PyTorch operation it calls.
ANY_TORCH = "any PyTorch operation"


class _TorchCalls(TorchFunctionMode):
    """Notes the name of every torch function and tensor method called inside a `with` block."""

    def __init__(self):
        super().__init__()
        self.names = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", repr(func))
        self.names.append("a tensor attribute" if name in ("__get__", "__set__") else name)
        return func(*args, **(kwargs or {}))


class _Tripwire:
    def __init__(self, original):
        self.original, self.called = original, False

    def __call__(self, *args, **kwargs):
        self.called = True
        return self.original(*args, **kwargs)


@contextlib.contextmanager
def _tripwires(functions, namespace):
    """Swap each function for a tripwire wherever the student's code could reach it: the torch
    modules that export it and the student's own globals (`from ... import f` included)."""
    wires = {id(function): _Tripwire(function) for function in functions}
    swapped = []
    homes = []
    for name, module in list(sys.modules.items()):
        attributes = getattr(module, "__dict__", None)  # sys.modules may hold objects without one
        if name.split(".")[0] == "torch" and type(attributes) is dict:
            homes.append(attributes)
    for attributes in homes + [namespace]:  # under any name: torch exports some under a second one
        for key, value in list(attributes.items()):
            if id(value) in wires and wires[id(value)].original is value:
                swapped.append((attributes, key, value))
                attributes[key] = wires[id(value)]
    try:
        yield wires
    finally:
        for attributes, key, value in reversed(swapped):
            attributes[key] = value


def run_keeping_rule(rule, function, *args, forbidden=(), **kwargs):
    """Call function(*args, **kwargs) and return its result, failing if the call broke `rule`.

    `forbidden` lists what the rule excludes: names of PyTorch operations as PyTorch reports them
    ("backward", "grad", "one_hot", "embedding", "gru_cell", ...), ANY_TORCH for a NumPy-only
    part, and library functions (such as torch.nn.utils.clip_grad_norm_) that must not be called.
    """
    names = {f for f in forbidden if type(f) is str}
    functions = [f for f in forbidden if type(f) is not str]
    with _tripwires(functions, function.__globals__) as wires, _TorchCalls() as calls:
        result = function(*args, **kwargs)
    ops = sorted({n for n in calls.names if ANY_TORCH in names or n in names})
    library = [f"{w.original.__module__}.{w.original.__name__}" for w in wires.values() if w.called]
    used = ([f"PyTorch's {', '.join(ops)}"] if ops else []) + library
    assert not used, f"Rule broken: {rule}. Your {function.__name__} called {' and '.join(used)}."
    return result


@contextlib.contextmanager
def substituted(namespace, **replacements):
    """Bind names of `namespace` (the notebook's globals()) to other objects inside a `with` block.

    A test of a later part runs the reference of an earlier part in place of the student's, so
    that one mistake costs points once; a test counts calls by substituting a counting wrapper.
    """
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value

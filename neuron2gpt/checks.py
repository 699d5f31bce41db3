# Checks used by the exercise tests (source of truth: neuron2gpt/checks.py).
# Each check raises AssertionError with a sentence that says what is wrong, so a
# failing test cell tells you what to fix. Types are checked exactly
# (`type(x) is np.ndarray`), so an object that only pretends to be equal earns nothing.
import math

import numpy as np
import torch


def _describe(value):
    return type(value).__name__


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
    raise AssertionError(
        f"{name} has the right shape but wrong values: at index {tuple(int(i) for i in worst)} "
        f"expected {expected[worst]:.6g}, got {got[worst]:.6g} "
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
        f"{name}: expected {expected:.6g}, got {got:.6g}.")


def check_true(condition, message):
    """Assert a property; `message` says in plain words what is wrong when it fails."""
    assert condition is True or condition is np.True_, message

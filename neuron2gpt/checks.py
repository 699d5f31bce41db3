# Checks used by the exercise tests (source of truth: neuron2gpt/checks.py).
# Each check raises AssertionError with a sentence that says what is wrong, so a
# failing test cell tells you what to fix. Types are checked exactly
# (`type(x) is np.ndarray`), so an object that only pretends to be equal earns nothing.
import ast
import builtins
import contextlib
import hashlib
import importlib
import math
import operator
import os
import sys
import types

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


# ---------------------------------------------------------------------------------------------
# The checks cannot be switched off by the code they check.
#
# Your code and these tests share one Python process, so code in a notebook could replace the
# checks, or the NumPy, PyTorch and Python functions the tests use, and every test would pass.
# So, from the moment this cell has run:
# 1. The checks keep their own copies of every name they use: rebinding `check_close` or `np` in
#    the notebook does not change what the checks do.
# 2. Before each check, and before and after every cell, the notebook is compared with what it
#    was when this cell ran (by identity, not by name): a check helper, a NumPy, PyTorch, math or
#    Python built-in function or class, or an IPython hook that was replaced fails the cell with a
#    message naming it. Your own helpers, imports and prints are yours to use.
# 3. When the course's grader runs the notebook (NEURON2GPT_RECORD is set), the checks also keep a
#    signed record of every check and its verdict, which the grader verifies outside this kernel
#    (autograder/integrity.py): a test that passed without its checks passing is held back.

_PROTECTED = ("check_type", "check_shape", "check_close", "check_equal", "check_scalar", "check_true",
              "run_keeping_rule", "substituted", "ANY_TORCH", "np", "torch", "math",
              "_describe", "_as_different_text", "_TorchCalls", "_Tripwire", "_tripwires")
_GUARDED = ("check_type", "check_shape", "check_close", "check_equal", "check_scalar", "check_true",
            "run_keeping_rule")
_LIBRARIES = ("numpy", "numpy.linalg", "numpy.random", "numpy.testing", "math", "operator", "contextlib",
              "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils", "torch.linalg",
              "torch.testing", "torch.autograd", "torch.optim", "torch.overrides")
_BUILTINS = ("type", "isinstance", "issubclass", "len", "float", "int", "bool", "str", "repr", "abs", "min",
             "max", "sum", "all", "any", "map", "zip", "range", "enumerate", "sorted", "reversed", "tuple",
             "list", "dict", "set", "getattr", "hasattr", "setattr", "round", "iter", "next", "print", "id",
             "callable", "vars", "object", "super", "__import__", "AssertionError", "Exception",
             "BaseException", "ValueError", "TypeError", "FloatingPointError", "NotImplementedError")
_IPYTHON_METHODS = ("run_cell", "run_cell_async", "run_code", "run_ast_nodes", "transform_cell",
                    "showtraceback", "_showtraceback", "showsyntaxerror", "set_custom_exc")
_STATE = {"depth": 0, "watched": [], "record": None, "reported": set(), "shown": False, "offset": 0}


def _mutable_class(value):
    """A class whose methods can be reassigned: a heap type not marked immutable."""
    return isinstance(value, type) and bool(value.__flags__ & (1 << 9)) and not value.__flags__ & (1 << 8)


def _watch(label, mapping, names):
    """Remember which objects `names` are bound to in `mapping` now."""
    names = tuple(name for name in names if name in mapping)
    _STATE["watched"].append((label, mapping, names, tuple(mapping[name] for name in names)))


def _watch_everything(namespace, shell):
    _watch("", namespace, _PROTECTED)
    _watch("builtins.", vars(builtins), _BUILTINS)
    for name in _LIBRARIES:
        importlib.import_module(name)
    _watch("sys.modules", sys.modules, _LIBRARIES)
    classes = {_TorchCalls, _Tripwire}
    for name in _LIBRARIES:
        attributes = vars(sys.modules[name])
        _watch(name + ".", attributes,
               [key for key, value in attributes.items() if callable(value) or type(value) is types.ModuleType])
        classes.update(value for value in attributes.values() if _mutable_class(value)
                       and (value.__module__ or "").split(".")[0] in ("torch", "numpy", "contextlib"))
    for cls in classes:
        attributes = vars(cls)
        _watch(f"{cls.__module__}.{cls.__qualname__}.", attributes,
               [key for key, value in attributes.items() if callable(value) or hasattr(type(value), "__get__")])
        # a new attribute can hide one a base class defines (torch.Tensor.numpy lives in TensorBase)
        _STATE["classes"].append((f"{cls.__module__}.{cls.__qualname__}.", cls, attributes, frozenset(attributes)))
    if shell is not None:
        for cls in type(shell).__mro__:
            _watch(f"IPython's {cls.__name__}.", vars(cls), _IPYTHON_METHODS)


def _hooks_state(shell, _tuple=tuple, _any=any, _getattr=getattr):
    """What else could change a verdict: hooks in PyTorch, Python and IPython (compared by value)."""
    module = sys.modules["torch.nn.modules.module"]
    state = {f"PyTorch's {name.strip('_').replace('_', ' ')}": _tuple(_getattr(module, name).values())
             for name in _STATE["torch_hooks"]}
    # torch.set_default_device("cuda") leaves a mode of PyTorch's own on the stack: that one is fine
    state["an active PyTorch function mode"] = _tuple(
        type(mode).__qualname__ for mode in torch.overrides._get_current_function_mode_stack()
        if type(mode).__qualname__ != "DeviceContext")
    state["PyTorch's function overrides switched off"] = torch._C._is_torch_function_enabled()
    state["an active PyTorch dispatch mode"] = _getattr(torch._C, "_len_torch_dispatch_stack", _tuple)()
    # a debugger's or coverage tool's tracer is fine; one defined in the notebook could rewrite frames
    state["sys.settrace"], state["sys.setprofile"] = (
        tracer if _getattr(_getattr(tracer, "__func__", tracer), "__module__", None) == "__main__" else None
        for tracer in (sys.gettrace(), sys.getprofile()))
    if shell is not None:
        state["IPython's custom exception handler (set_custom_exc)"] = (shell.custom_exceptions, shell.CustomTB)
        for name in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
            state[f"IPython's {name}"] = _tuple(_getattr(shell, name, ()))
        state["IPython's methods of this shell"] = _tuple(vars(shell).get(name) for name in _IPYTHON_METHODS)
        state["IPython's event hooks of the checks"] = _tuple(
            _any(_getattr(hook, "_neuron2gpt", False) for hook in shell.events.callbacks.get(event, ()))
            for event in ("pre_run_cell", "post_run_cell"))
    return state


def _unwraps_to(function, is_target, wrappers, _type=type, _range=range):
    """True if `function`, or what at most `wrappers` of PyTorch's or NumPy's own wrappers around it
    wrap (functools.wraps sets __wrapped__), satisfies `is_target`."""
    for _ in _range(wrappers):
        if is_target(function):
            return True
        if _type(function) is not types.FunctionType or not function.__code__.co_filename.startswith(
                _STATE["library_dirs"]):
            return False
        function = function.__dict__.get("__wrapped__")
    return is_target(function)


def _own_wrapper(new, old):
    """True if `new` is PyTorch's or NumPy's own wrapper of `old`: PyTorch wraps some functions on
    first use (torch.manual_seed once torch._dynamo loads, an optimizer's step when one is made)."""
    return _unwraps_to(new, lambda function: function is old, 8)


def _replaced(_any=any, _map=map, _is_not=operator.is_not, _zip=zip, _tuple=tuple, _len=len, _vars=vars):
    """Plain names of everything replaced since this cell ran (an empty list: nothing)."""
    found = []
    for label, mapping, names, values in _STATE["watched"]:
        if not _any(_map(_is_not, _map(mapping.get, names), values)):
            continue
        now = _tuple(_map(mapping.get, names))
        found += [label + name if label != "sys.modules" else f"sys.modules[{name!r}]"
                  for name, old, new in _zip(names, values, now) if new is not old and not _own_wrapper(new, old)]
    for label, cls, attributes, names in _STATE["classes"]:
        if _len(attributes) != _len(names):
            found += [label + name for name in attributes if name not in names
                      and _any(name in _vars(base) for base in cls.__mro__[1:])]
    found += _replaced_in_this_cell()
    now = _hooks_state(_STATE["shell"])
    found += [name for name, value in now.items() if value != _STATE["hooks"].get(name)]
    return found


def _defined_at_top(source, _parse=ast.parse):
    """(name, line) of each function and class a cell defines at its top level (lambdas included)."""
    try:
        tree = _parse(source)
    except (SyntaxError, ValueError):
        return []
    found = [(node.name, node.lineno) for node in tree.body
             if type(node) in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)]
    return found + [(node.targets[0].id, node.lineno) for node in tree.body if type(node) is ast.Assign
                    and len(node.targets) == 1 and type(node.targets[0]) is ast.Name and type(node.value) is ast.Lambda]


def _from_cell(function, filename, _type=type):
    """True if `function` was written in the cell compiled as `filename` (or is a PyTorch or NumPy
    decorator's wrapper, such as @torch.no_grad(), of a function that was)."""
    return _unwraps_to(function, lambda f: _type(f) is types.FunctionType and f.__code__.co_filename == filename, 7)


def _replaced_in_this_cell(_getframe=sys._getframe, _type=type, _vars=vars, _all=all, _isinstance=isinstance):
    """The running cell's own functions (a test's references and helpers) that code rebound: each
    one its def has already made must still come from this cell's code."""
    namespace, defined = _STATE.get("namespace"), _STATE.get("cell_defs")
    frame = _getframe(1)
    while frame is not None and not (frame.f_globals is namespace and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None or not defined:
        return []
    filename, found = frame.f_code.co_filename, []
    for name, line in defined:
        if line >= frame.f_lineno:
            continue  # its def has not run yet
        value = namespace.get(name)
        if _isinstance(value, type):
            methods = [f for f in _vars(value).values() if _type(f) is types.FunctionType]
            ours = _all(_from_cell(method, filename) for method in methods)
        else:
            ours = _from_cell(value, filename)
        if not ours:
            found.append(f"{name} (a function of this test cell)")
    return found


def _message(found):
    names = ", ".join(found[:6]) + (f" and {len(found) - 6} more" if len(found) > 6 else "")
    return (f"The course's checks cannot run: code in this notebook replaced {names}. Tests count only "
            "when they run with the course's own checks and libraries. Remove the code that replaces them "
            "(or rename your own function if it has one of these names), then restart the kernel and run "
            "the notebook from the top.")


def _require_untouched():
    found = _replaced()
    if found:
        message = _message(found)
        if message not in _STATE["reported"]:
            _STATE["reported"].add(message)
            _record("replaced", message, False)
        raise AssertionError(message)


def _record(kind, detail, ok, _str=str, _int=int, _getpid=os.getpid):
    """One signed line of the grader's record: what ran in which cell, and whether it passed.
    Built only from what the checks captured (no json, no hmac module a notebook could patch)."""
    record = _STATE["record"]
    if record is None or _getpid() != record["pid"]:
        # a process forked from the kernel holds a copy of the record's state; its lines would
        # repeat the kernel's numbers (an interrupted fork child unwinds into the cell hooks)
        return
    count = _STATE["ending"] if "ending" in _STATE else _STATE["shell"].execution_count + _STATE.get("offset", 0)
    text = _str(detail)[:200].replace("\t", " ").replace("\n", " ")
    line = f"{record['lines']}\t{kind}\t{_int(count)}\t{text}\t{'pass' if ok is True else 'fail'}"
    record["file"].write(f"{line}\t{record['sign'](line.encode())}\n")
    record["lines"] += 1


def _label(name, args):
    if name == "check_true":  # its message may hold the answer's own values
        return name
    return f"{name}: {args[0]}" if args and type(args[0]) is str else name


def _guard(name, check):
    """The check, run only on an untouched notebook, with its verdict recorded."""
    def guarded(*args, **kwargs):
        if _STATE["depth"]:  # called by another check: already guarded
            return check(*args, **kwargs)
        _require_untouched()
        _STATE["depth"] += 1
        try:
            result = check(*args, **kwargs)
            if name == "run_keeping_rule":  # the student's function ran: check again
                _require_untouched()
        except BaseException:
            _record("check", _label(name, args), False)
            raise
        finally:
            _STATE["depth"] -= 1
        _record("check", _label(name, args), True)
        return result
    guarded.__name__ = guarded.__qualname__ = name
    guarded.__doc__ = check.__doc__
    return guarded


def _show_error(shell, message):
    """An error output in the running cell, as a failing test shows one (nbgrader: no points)."""
    _STATE["show"](shell, AssertionError, message, [f"AssertionError: {message}"])


def _before_cell(info=None):
    _STATE["cell_defs"] = _defined_at_top(getattr(info, "raw_cell", "") or "")
    found = _replaced()
    if found:
        _STATE["shown"] = True
        _record("replaced", _message(found), False)
        _show_error(_STATE["shell"], _message(found))


def _after_cell(result=None):
    shell = _STATE["shell"]
    ending = getattr(result, "execution_count", None)
    if "offset" not in _STATE:  # the checks cell itself: IPython versions differ on the count during a cell
        _STATE["offset"] = ending - _STATE["during"] if ending else 0
    _STATE["ending"] = ending or shell.execution_count + _STATE.get("offset", 0)
    try:
        found = _replaced()
        if found:
            _record("replaced", _message(found), False)
            if not _STATE["shown"]:
                _show_error(_STATE["shell"], _message(found))
        failed = result is None or result.error_before_exec is not None or result.error_in_exec is not None
        _record("end", "cell", not failed and not found)
    finally:
        del _STATE["ending"]
        _STATE["shown"] = False


def _open_record(folder, _sha256=hashlib.sha256):
    """The grader's record: a random key written once, then lines signed with it (HMAC-SHA256),
    into files that this kernel, in the grader's sandbox, may append to but not read."""
    key = os.urandom(32)
    with open(os.path.join(folder, "key"), "a") as out:
        out.write(key.hex() + "\n")
    inner = _sha256(bytes(b ^ 0x36 for b in key.ljust(64, b"\0")))
    outer = _sha256(bytes(b ^ 0x5C for b in key.ljust(64, b"\0")))
    del key

    def sign(line):
        digest = inner.copy()
        digest.update(line)
        mac = outer.copy()
        mac.update(digest.digest())
        return mac.hexdigest()
    return {"sign": sign, "file": open(os.path.join(folder, "record"), "a", buffering=1), "lines": 0,
            "pid": os.getpid()}


def _copy_function(function, private):
    copy = types.FunctionType(function.__code__, private, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__kwdefaults__, copy.__doc__, copy.__qualname__ = (function.__kwdefaults__, function.__doc__,
                                                            function.__qualname__)
    return copy


def _seal(namespace):
    """Give the checks private copies of their names, watch the notebook, start the record."""
    private = dict(namespace)
    private["_STATE"] = dict(_STATE)  # the notebook's _STATE is left as a copy that nothing reads
    for name, value in namespace.items():
        if type(value) is types.FunctionType and value.__globals__ is namespace:
            private[name] = _copy_function(value, private)
        wrapped = getattr(value, "__wrapped__", None)  # a @contextlib.contextmanager
        if type(wrapped) is types.FunctionType and wrapped.__globals__ is namespace:
            private[name] = contextlib.contextmanager(_copy_function(wrapped, private))
    for name in _GUARDED:
        private[name] = private["_guard"](name, private[name])
    namespace.update({name: private[name] for name in _PROTECTED if name in namespace})
    private["_finish_seal"](namespace)


def _finish_seal(namespace):
    get_shell = getattr(builtins, "get_ipython", None)
    shell = get_shell() if get_shell is not None else None
    module = sys.modules["torch.nn.modules.module"]
    _STATE.update(shell=shell, namespace=namespace, watched=[], classes=[], reported=set(), library_dirs=tuple(
        os.path.dirname(module.__file__) + os.sep for module in (np, torch)), torch_hooks=[
        name for name in dir(module) if name.startswith("_global_") and name.endswith("hooks")
        and type(getattr(module, name)) in (dict, type(module._global_forward_hooks))])
    _watch_everything(namespace, shell)
    if shell is not None:
        _STATE["show"] = type(shell)._showtraceback
        for event, hook in (("pre_run_cell", _before_cell), ("post_run_cell", _after_cell)):
            callbacks = shell.events.callbacks[event]
            callbacks[:] = [f for f in callbacks if not getattr(f, "_neuron2gpt", False)]  # a rerun of this cell
            hook._neuron2gpt = True
            shell.events.register(event, hook)
    _STATE["hooks"] = _hooks_state(shell)
    folder = os.environ.get("NEURON2GPT_RECORD")
    _STATE.pop("offset", None)  # learnt when this cell ends
    _STATE["during"] = shell.execution_count if shell is not None else 0
    if folder and shell is not None:
        _STATE["record"] = _open_record(folder)
        _record("start", "checks", True)


_seal(globals())

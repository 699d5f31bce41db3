"""The shared modules that notebooks inline: data loading, checks, Colab links."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from autograder.book import colab_url, config
from neuron2gpt import checks, data
from tests import harness

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "tiny.txt").write_text("to be or not to be")
    digest = hashlib.sha256(b"to be or not to be").hexdigest()
    monkeypatch.setitem(data.DATASETS, "tiny.txt", ("https://example.invalid/tiny.txt", digest))
    monkeypatch.setattr(data, "CACHE", tmp_path / "cache")
    monkeypatch.setenv("NEURON2GPT_DATA_MIRROR", str(folder))
    return folder


def test_fetch_reads_the_mirror_verifies_and_caches(mirror):
    assert data.load_text("tiny.txt") == "to be or not to be"
    (mirror / "tiny.txt").unlink()  # the second call must not need the mirror
    assert data.load_text("tiny.txt") == "to be or not to be"


def test_fetch_rejects_a_file_with_the_wrong_checksum(mirror):
    (mirror / "tiny.txt").write_text("tampered")
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        data.fetch("tiny.txt")
    assert not (data.CACHE / "tiny.txt").exists(), "a bad download must not be cached"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="no ../shared/data mirror on this machine")
def test_the_shared_mirror_holds_the_files_the_course_expects(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "CACHE", tmp_path)
    monkeypatch.setenv("NEURON2GPT_DATA_MIRROR", str(SHARED_DATA))
    for name in data.DATASETS:
        assert data.fetch(name).stat().st_size > 0


class FakeArray:
    """What a student might return to cheat: equal to everything."""
    shape = (2, 2)

    def __eq__(self, other):
        return True


def test_checks_reject_objects_that_fake_equality():
    with pytest.raises(AssertionError, match="should be a numpy.ndarray"):
        checks.check_close("out", FakeArray(), np.zeros((2, 2)))
    with pytest.raises(AssertionError, match="should be a torch.Tensor"):
        checks.check_close("out", np.zeros((2, 2)), torch.zeros(2, 2))
    with pytest.raises(AssertionError, match="Python float"):
        checks.check_scalar("loss", torch.tensor(1.0), 1.0)


def test_check_messages_say_what_is_wrong():
    with pytest.raises(AssertionError, match=r"expected shape \(4, 10\), got \(10, 4\).*wrong order"):
        checks.check_shape("logits", np.zeros((10, 4)), (4, 10))
    with pytest.raises(AssertionError, match=r"at index \(1,\) expected 2, got 5"):
        checks.check_close("y", np.array([1.0, 5.0]), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError, match="NaN"):
        checks.check_close("y", np.array([np.nan]), np.array([1.0]))
    with pytest.raises(AssertionError, match="mask is wrong"):
        checks.check_true(False, "mask is wrong")
    checks.check_close("y", torch.ones(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))


def test_check_equal_reports_the_first_difference():
    with pytest.raises(AssertionError, match=r"1 of 3 values differ; first at index \(2,\): expected 3, got 4"):
        checks.check_equal("labels", np.array([1, 2, 4]), np.array([1, 2, 3]))
    with pytest.raises(AssertionError, match="dtype"):
        checks.check_equal("ids", torch.tensor([1, 2]), torch.tensor([1.0, 2.0]))
    with pytest.raises(AssertionError, match="position 1: expected 'b', got 'x'"):
        checks.check_equal("text", "axc", "abc")
    with pytest.raises(AssertionError, match="should be a builtins.str"):
        checks.check_equal("text", FakeArray(), "abc")
    checks.check_equal("ids", torch.tensor([1, 2]), torch.tensor([1, 2]))


def test_colab_links_come_from_the_repository_setting():
    url = config()["repository"]["url"].removeprefix("https://github.com/")
    branch = config()["repository"]["branch"]
    assert colab_url("exercises/a/a.ipynb") == (
        f"https://colab.research.google.com/github/{url}/blob/{branch}/exercises/a/a.ipynb")


def _threads_after_runtime(**env_vars):
    """torch's thread count and NumPy's BLAS setting after a fresh process runs the set-up cell."""
    env = {k: v for k, v in os.environ.items() if k not in harness.THREAD_VARIABLES}
    env.update(env_vars)
    code = (f"exec(open({str(harness.REPO / 'neuron2gpt' / 'runtime.py')!r}).read())\n"
            "print(torch.get_num_threads(), os.environ['OPENBLAS_NUM_THREADS'])")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_set_up_cell_uses_one_cpu_thread_unless_asked_for_more():
    # One thread per kernel keeps notebooks fast on a busy machine (issue 8); OMP_NUM_THREADS
    # set by the user still wins.
    assert _threads_after_runtime() == ["1", "1"]
    assert _threads_after_runtime(OMP_NUM_THREADS="2") == ["2", "2"]
    assert _threads_after_runtime(OMP_NUM_THREADS="junk") == ["1", "1"]


def test_run_keeping_rule_catches_forbidden_operations_and_functions_under_any_name():
    import torch.nn.functional as F
    from torch.nn.utils import clip_grad_norm_ as renamed  # an alias the student made

    ids = torch.tensor([0, 2])
    assert checks.run_keeping_rule("by hand", lambda i: i * 2, ids, forbidden=["one_hot"]).tolist() == [0, 4]
    with pytest.raises(AssertionError, match=r"Rule broken: by hand\. Your .* called PyTorch's one_hot"):
        checks.run_keeping_rule("by hand", lambda i: F.one_hot(i, 3), ids, forbidden=["one_hot"])
    with pytest.raises(AssertionError, match="Rule broken: NumPy only"):
        checks.run_keeping_rule("NumPy only", lambda x: torch.tensor(x).numpy(), np.ones(2),
                                forbidden=[checks.ANY_TORCH])
    parameter = torch.nn.Parameter(torch.ones(3))
    parameter.grad = torch.ones(3)
    namespace = {"renamed": renamed}
    clip = eval("lambda params: renamed(params, 0.1)", namespace)
    with pytest.raises(AssertionError, match="clip_grad_norm_"):
        checks.run_keeping_rule("no clip_grad_norm_", clip, [parameter],
                                forbidden=[torch.nn.utils.clip_grad_norm_])
    # the originals are back where they were
    assert namespace["renamed"] is renamed and torch.nn.utils.clip_grad_norm_ is renamed


def test_substituted_binds_names_for_the_block_only():
    namespace = {"f": len}
    with checks.substituted(namespace, f=max, g=min):
        assert namespace["f"] is max and namespace["g"] is min
    assert namespace == {"f": len}


def test_failure_messages_show_enough_digits_to_see_the_difference():
    with pytest.raises(AssertionError, match=r"expected 0\.15654612, got 0\.1565461 "):
        checks.check_close("x", np.array([0.1565461]), np.array([0.15654612]), atol=1e-12, rtol=0)
    with pytest.raises(AssertionError, match=r"expected 1\.0000001, got 1\.0000002\."):
        checks.check_scalar("x", 1.0000002, 1.0000001, atol=0, rtol=1e-9)


def test_the_translation_task_spells_batches_and_scores():
    # Part III's shared module runs after the set-up cell, as in every notebook that inlines it
    namespace = {}
    for module in ("runtime", "seq2seq"):
        exec(compile((Path(checks.__file__).parent / f"{module}.py").read_text(), module, "exec"), namespace)
    spell, make_batch, bleu2 = namespace["spell"], namespace["make_batch"], namespace["bleu2"]
    assert spell(312) == ["three", "hundred", "and", "twelve"]
    assert spell(1_000_005) == ["one", "million", "and", "five"]
    assert len(spell(987_654_321)) == 17 and spell(987_654_321)[-3:] == ["and", "twenty", "one"]
    sources, lengths, inputs, targets = make_batch([(spell(7), list("7")), (spell(1005), list("1005"))])
    PAD, SOS, EOS = namespace["PAD"], namespace["SOS"], namespace["EOS"]
    assert sources.shape == (2, 4) and lengths.tolist() == [1, 4] and (sources[0, 1:] == PAD).all()
    assert inputs[:, 0].tolist() == [SOS, SOS] and targets[0, :2].tolist()[1] == EOS
    assert (inputs[:, 1:] == targets[:, :-1]).logical_or(targets[:, :-1] == EOS).all()
    assert bleu2("987654", "987654") == 1.0 and bleu2("", "1") == 0.0 and bleu2("987645", "987654") < 1
    assert namespace["to_digits"](targets[1].tolist()) == "1005"


def test_modules_that_a_notebook_may_carry_together_define_different_names():
    # chapter 4.5 carries seq2seq.py and transformer.py: a second STEPS would silently change the first
    import ast
    from itertools import combinations
    defined = {}
    for path in sorted(Path(checks.__file__).parent.glob("*.py")):
        if path.stem in ("__init__", "inline"):
            continue
        names = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        defined[path.stem] = names
    for (a, names_a), (b, names_b) in combinations(defined.items(), 2):
        assert not names_a & names_b, f"neuron2gpt/{a}.py and {b}.py both define {sorted(names_a & names_b)}"

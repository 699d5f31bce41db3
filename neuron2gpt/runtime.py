# Course set-up: the same in every notebook (source of truth: neuron2gpt/runtime.py).
import os
import random
import warnings

# One CPU thread per notebook, unless OMP_NUM_THREADS asks for more. The course's models are
# small, so a second thread barely speeds them up; and when another program keeps a core busy,
# the spinning worker threads of PyTorch and NumPy wait on each other (measured on 2 cores: the
# LSTM exercise next to one busy process took 8 s with one thread, over 4 minutes with two).
# Set before NumPy and PyTorch load: their thread pools read these variables then.
os.environ.setdefault("OMP_NUM_THREADS", "1")
CPU_THREADS = max(int(os.environ["OMP_NUM_THREADS"]), 1) if os.environ["OMP_NUM_THREADS"].isdigit() else 1
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(CPU_THREADS))
os.environ.setdefault("MKL_NUM_THREADS", str(CPU_THREADS))

import numpy as np  # noqa: E402 (after the thread settings, on purpose)
import torch  # noqa: E402

torch.set_num_threads(CPU_THREADS)

# nbgrader sets NBGRADER_EXECUTION while it validates or grades a notebook; training
# loops read GRADING to run a shortened schedule so that grading stays fast.
GRADING = bool(os.environ.get("NBGRADER_EXECUTION"))
# Use the GPU when there is one (Colab's free T4), the CPU otherwise.
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
# Library deprecation notices are noise for a learner, and any text on stderr in a
# test cell would cost its points under nbgrader.
warnings.filterwarnings("ignore")


def seed_everything(seed: int = 0) -> None:
    """Make random numbers repeatable across Python, NumPy and PyTorch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


seed_everything(0)

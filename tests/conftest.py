import os
import sys

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TACSUITE_TORCH_THREADS", "1")
# Tests keep generated datasets in the project's git-ignored data/minari (users get Minari's
# own default, ~/.minari/datasets); tests that check dataset files use a temporary root.
os.environ.setdefault("MINARI_DATASETS_PATH",
                      os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                   "data", "minari"))


MAX_TREES_PER_MODULE = 400


def _field_trees(backend) -> int:
    prog = backend.import_taichi().lang.impl.get_runtime().prog
    count = getattr(prog, "get_snode_tree_size", None)   # absent on other compilers: no check
    return count() if count else 0


@pytest.fixture(autouse=True, scope="module")
def fresh_taichi_runtime_per_module():
    """Each test module that used the simulator leaves with a fresh Taichi runtime: the
    fields its worlds allocated are released instead of accumulating in a worker process.
    Taichi 1.7 allows 512 field trees per runtime and segfaults past that (a world that
    allocates fields after a kernel launch adds a tree per allocation; one tactile-task
    module alone leaves about 200), and a test worker runs many modules in turn. So a
    test module must not allocate fields at import time: they would not survive an
    earlier module's reset."""
    yield
    backend = sys.modules.get("tacsuite.sim.backend")
    if backend is not None and backend.is_initialized():
        trees = _field_trees(backend)
        backend.shutdown()
        backend.ensure_init()  # modules define kernels at import; keep a runtime of ours up
        assert trees <= MAX_TREES_PER_MODULE, (
            f"this module left {trees} field trees in one runtime; Taichi's limit is 512. "
            f"Allocate a world's fields together, or split the module")

import pytest


@pytest.fixture(autouse=True, scope="module")
def fresh_taichi_runtime_per_module():
    """Each simulator test module gets its own Taichi runtime: fields allocated by earlier
    modules are released instead of accumulating in one process (Taichi 1.7 on the CPU
    can segfault once many field trees have been allocated and read back). So a test
    module must not allocate fields at import time: they would not survive an earlier
    module's reset."""
    yield
    from tacsuite.sim.backend import ensure_init, is_initialized, shutdown

    if is_initialized():
        shutdown()
        ensure_init()  # test modules define kernels at import; keep a runtime of ours up

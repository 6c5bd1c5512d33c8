import pytest


@pytest.fixture(autouse=True, scope="module")
def fresh_taichi_runtime_per_module():
    """Each simulator test module gets its own Taichi runtime: fields allocated by earlier
    modules are released instead of accumulating in one process (Taichi 1.7 on the CPU
    can segfault once many field trees have been allocated and read back)."""
    yield
    from tacsuite.sim.backend import shutdown

    shutdown()

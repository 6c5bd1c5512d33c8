import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TACSUITE_TORCH_THREADS", "1")
# Tests keep generated datasets in the project's git-ignored data/minari (users get Minari's
# own default, ~/.minari/datasets); tests that check dataset files use a temporary root.
os.environ.setdefault("MINARI_DATASETS_PATH",
                      os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                   "data", "minari"))

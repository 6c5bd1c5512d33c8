"""Learning and planning algorithms; each module is one algorithm read top to bottom."""

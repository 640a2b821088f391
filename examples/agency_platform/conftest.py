"""Lets `test_app.py` import this folder's `app` module under any pytest import mode (the project uses importlib)."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

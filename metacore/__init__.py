"""metacore: compare fine-tuning and meta-learning on your own labelled text.

The engine is plain Python + torch and never imports streamlit. Heavy modules are imported
lazily so that ``import metacore`` stays cheap (the CLI's ``methods`` and ``validate`` commands
should answer in well under a second plus torch's own import).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

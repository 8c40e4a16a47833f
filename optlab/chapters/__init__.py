"""The maths of each chapter page, in pure NumPy: one module per page, named like the page.

``chapters/X.py`` is the model of ``pages/N_X…py``: the numbers its figures draw and its captions
quote, as functions of hashable settings, testable without Streamlit (``tests/chapters/``).  A
chapter module builds on the library (``optlab.*``) and never imports another chapter; what two
chapters share goes down into the library.  See ARCHITECTURE.md.
"""

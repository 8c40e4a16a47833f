"""Small real datasets shipped with optlab as CSV files (read by :mod:`optlab.data`).

Regenerate them with ``tools/export_datasets.py``; each file starts with its provenance.
"""

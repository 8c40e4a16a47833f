# A package, so pytest imports tests/browser/conftest.py as `browser.conftest`: otherwise it takes
# the module name `conftest` and `from conftest import plotly_array` in tests/*.py finds it
# instead of tests/conftest.py.

"""The browser harness: real JupyterLab / Voila servers and a Chromium page driven as a person would.

Plain modules with no pytest in them, used by the browser tests (through tests/browser/conftest.py's
fixtures) and by the benchmarks (``from tests.browser.harness.lab import open_notebook``):

- ``servers``: ``start_lab`` / ``start_voila`` on free loopback ports, ``LabServer`` / ``VoilaServer``;
- ``lab``: ``open_notebook``, ``run_all``, ``wait_idle``, ``save_notebook``, ``open_voila``,
  ``screenshot``, ``use_theme`` / ``THEMES``, ``CONTRAST_JS`` (WCAG contrast of every text), ``ConsoleWatcher``;
- ``jupyter_env``: ``isolated_env`` (Jupyter state out of $HOME), per-notebook kernel environments,
  ``execute_notebook`` (headless);
- ``chromium``: the Chromium binary, flags and viewport.
"""

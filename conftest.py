"""Root conftest: none of kubegate's logic, nor its plugin list.

kubegate's plugin reaches every pytest session through its `pytest11` entry point
(kubegate.pytest.entry) and stays inert unless asked; pyproject's `kubegate = true` asks for it
in this checkout, so `python3 -m pytest` here runs with kubegate's fixtures, reports and verdict,
exactly as `kubegate test` does from an installed wheel.
"""

# Extra processes for `make run` (read by scripts/run_all.py, which provides PYTHON and BIN).
PROCESSES = {"opcua": [PYTHON, "manage.py", "opcua_simulator"]}  # noqa: F821

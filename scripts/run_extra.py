# ruff: noqa: F821  (PYTHON and BIN are given by scripts/run_all.py, which executes this file)
# Extra processes for `make run` (read by scripts/run_all.py, which provides PYTHON and BIN).
import os

# The demo's dispensing booth shows "put material on the pan" buttons for its simulated balances.
os.environ.setdefault("MES_BALANCE_SIMULATOR_CONTROLS", "1")

PROCESSES = {
    # No random faults in the demo (a visitor walks a whole batch); `manage.py opcua_fault CODE` or the
    # equipment admin's "raise a simulated alarm" shows the fault flow on demand.
    "opcua": [PYTHON, "manage.py", "opcua_simulator", "--fault-rate", "0"],  # noqa: F821
    # Weigh & dispense (issue 19): the demo balances speak MT-SICS on TCP; labels go to a printer simulator.
    "balances": [PYTHON, "manage.py", "balance_simulator"],  # noqa: F821
    "label-printer": [PYTHON, "manage.py", "label_printer_simulator"],  # noqa: F821
    # Batch record PDFs: one WeasyPrint render per worker child, so each render's memory is returned.
    "worker-pdf": [
        str(BIN / "celery"),
        "-A",
        "mes",
        "worker",
        "-Q",
        "pdf",
        "-n",
        "pdf@%h",  # noqa: F821
        "--concurrency",
        "1",
        "--max-tasks-per-child",
        "1",
        "--loglevel",
        "info",
    ],
}

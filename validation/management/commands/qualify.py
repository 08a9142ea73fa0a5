"""`manage.py qualify iq|oq|pq|report`: the validation kit, run on this installation.

    qualify iq                      installation checks (roles, triggers, grants, versions, …)
    qualify oq [--tests P ...] [-k EXPR]   the catalogue's test scripts in a scratch database
    qualify pq [--no-scenario] [--no-figures] [--bench M ...]   plant day in Chromium + key figures
    qualify report [--user NAME]    one PDF of all evidence, stored as the next version to sign

Each stage writes its evidence to --evidence (default MES_VAR_DIR/validation) and exits 1 when it failed.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from validation import evidence


class Command(BaseCommand):
    help = "Installation, operational and performance qualification of this installation, and their report."

    def add_arguments(self, parser):
        parser.add_argument("stage", choices=["iq", "oq", "pq", "report"])
        parser.add_argument("--evidence", default="", help="evidence folder (default MES_VAR_DIR/validation)")
        parser.add_argument("--tests", nargs="*", default=None, help="OQ/PQ: test paths (default: the whole set)")
        parser.add_argument("-k", dest="keyword", default="", help="OQ: only tests matching this pytest -k expression")
        parser.add_argument("--results", default="", help="OQ: judge this suite run's results JSON (no new run)")
        parser.add_argument("--catalogue", default="", help="OQ: requirement catalogue (default docs/…)")
        parser.add_argument("--bench", nargs="*", default=None, help="PQ: bench modules for the key figures")
        parser.add_argument("--no-scenario", action="store_true", help="PQ: skip the plant-day scenario")
        parser.add_argument("--no-figures", action="store_true", help="PQ: skip the key figures")
        parser.add_argument("--user", default="", help="report: the user who generates it")

    def handle(self, *args, stage: str, **opts):
        folder = evidence.evidence_dir(opts["evidence"] or None)
        if stage == "report":
            return self._report(folder, opts["user"])
        started = evidence.now_text()
        data = getattr(self, f"_{stage}")(folder, opts)
        data = {"started": started, "finished": evidence.now_text(), **data}
        path = evidence.write_stage(stage, data, folder)
        verdict = self.style.SUCCESS("PASSED") if data["passed"] else self.style.ERROR("FAILED")
        self.stdout.write(f"{stage.upper()} {verdict} — evidence: {path}")
        for deviation in data.get("deviations", []):
            self.stdout.write(f"  deviation: {deviation}")
        if not data["passed"]:
            raise SystemExit(1)

    def _iq(self, folder: Path, opts) -> dict:
        from validation.iq import run_iq

        lines = run_iq()
        for entry in lines:
            label = entry.check % entry.params if entry.params else entry.check
            self.stdout.write(f"[{entry.status:4}] {label}: expected {entry.expected}, found {entry.found}")
        failed = [entry for entry in lines if not entry.ok]
        deviations = [f"{e.check % e.params if e.params else e.check}: expected {e.expected}, found {e.found}"
                      for e in failed]  # fmt: skip
        return {"passed": not failed, "lines": [e.as_dict() for e in lines], "deviations": deviations}

    def _oq(self, folder: Path, opts) -> dict:
        from validation.oq import judge_results, run_oq

        catalogue = Path(opts["catalogue"]) if opts["catalogue"] else None
        if opts["results"]:
            result = judge_results(results=Path(opts["results"]), catalogue_path=catalogue)
        else:
            result = run_oq(paths=opts["tests"], keyword=opts["keyword"], catalogue_path=catalogue)
        for row in result["requirements"]:
            self.stdout.write(f"{row['id']:8} {row['status']:16} {len(row['tests'])} test(s) {row['seconds']} s")
        return result

    def _pq(self, folder: Path, opts) -> dict:
        from validation.pq import run_pq

        return run_pq(folder, scenario=opts["tests"], modules=opts["bench"], skip_scenario=opts["no_scenario"],
                      skip_figures=opts["no_figures"])  # fmt: skip

    def _report(self, folder: Path, username: str) -> None:
        from validation.services import validation_report_create

        user = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"no user {username!r}")
        obj = validation_report_create(user=user, folder=folder)
        path = folder / f"validation-report-v{obj.version}.pdf"
        self.stdout.write(f"validation report v{obj.version}: {path} sha256 {obj.pdf_sha256}")
        for change in obj.changes:
            self.stdout.write(f"  changed: {change}")

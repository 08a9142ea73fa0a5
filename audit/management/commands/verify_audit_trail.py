"""Verify the audit trail: keyed chain, head, signed checkpoints and signatures. Exit 0 when intact; 1 naming
the first bad event and every reason otherwise."""

import sys
import time

from django.core.management.base import BaseCommand

from audit.verification import verify_chain


class Command(BaseCommand):
    help = "Recompute every audit event hash and check the chain, its head and the checkpoints."

    def add_arguments(self, parser):
        parser.add_argument("--checkpoints", help="checkpoint file (default: settings.MES_AUDIT_CHECKPOINT_FILE)")

    def handle(self, *args, **options):
        started = time.perf_counter()
        result = verify_chain(options.get("checkpoints"))
        elapsed = time.perf_counter() - started
        for warning in result.warnings:
            self.stderr.write(f"Warning: {warning}")
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit trail intact: {result.events} events, {result.signatures} signatures and "
                    f"{result.checkpoints} checkpoints verified in {elapsed:.2f} s."
                )
            )
            return
        self.stderr.write(f"Audit trail BROKEN. First bad event: #{result.first_bad_seq}")
        for problem in result.problems[:20]:
            self.stderr.write(f"  - {problem}")
        sys.exit(1)

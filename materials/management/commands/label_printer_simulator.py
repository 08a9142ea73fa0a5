"""`manage.py label_printer_simulator`: a network label printer (raw TCP) that keeps what it receives."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from materials.labels_dispense import printer_address
from materials.printer_simulator import LabelPrinterSimulator


class Command(BaseCommand):
    help = "Listen like a ZPL label printer (MES_LABEL_PRINTER, port 9100) and store each job as a file."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--directory", default=str(Path(settings.VAR_DIR) / "printer"))

    def handle(self, *args, port, directory, **options):
        host, default_port = printer_address() or ("127.0.0.1", 9100)
        printer = LabelPrinterSimulator(host=host, port=port or default_port, directory=Path(directory))
        self.stdout.write(f"Label printer simulator on {host}:{port or default_port}; jobs go to {directory}")
        try:
            printer.serve_forever()
        except KeyboardInterrupt:
            pass

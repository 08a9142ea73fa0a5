"""Listen to equipment on the MQTT broker (settings MES_MQTT_*) and pass messages to the inbox."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from integrations.mqtt.client import EquipmentListener
from integrations.mqtt.services import mqtt_accept


class Command(BaseCommand):
    help = "Subscribe to <prefix>/equipment/+/status|counters and store every message in the inbox."

    def add_arguments(self, parser):
        parser.add_argument("--prefix", default=None, help="topic prefix (default: MES_MQTT_TOPIC_PREFIX)")
        parser.add_argument("--client-id", default="mes-equipment-listener", help="persistent session id")

    def handle(self, *args, prefix=None, client_id="", **options):
        listener = EquipmentListener(prefix=prefix, client_id=client_id).start()
        stopping = []
        signal.signal(signal.SIGTERM, lambda *a: stopping.append(True))
        self.stdout.write(f"listening on {listener.host}:{listener.port} {listener.prefix}/equipment/+/…")
        try:
            while not stopping:
                received = listener.get(timeout=1.0)
                if received is not None:
                    message = mqtt_accept(received)
                    self.stdout.write(f"{received.topic}: {message.status}")
        except KeyboardInterrupt:
            pass
        finally:
            listener.stop()

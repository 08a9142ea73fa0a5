"""MQTT has no Celery task: `manage.py mqtt_listen` is a long-running process (like the OPC UA
poller) that passes each received message through the inbox."""

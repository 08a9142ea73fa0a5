"""MQTT adapter: equipment that publishes status and counters to a broker (like OPC UA equipment).

Topics: `<prefix>/equipment/<code>/status` and `<prefix>/equipment/<code>/counters`, JSON payloads.
`manage.py mqtt_listen` subscribes and passes every message through the inbox.
"""

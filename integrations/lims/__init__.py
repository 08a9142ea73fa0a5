"""LIMS adapter: client (HTTP), mapping (records <-> messages), tasks (Celery)."""

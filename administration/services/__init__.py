"""Administration services: configuration change control, users, alerts, backup, archive, status."""

"""WMS tasks: outbound messages go through the shared outbox tasks (integrations.tasks); inbound
messages are pushed to the API. Nothing is polled from the WMS."""

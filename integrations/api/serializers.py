"""Serializers of the integration records (message log) and of inbound message receipts."""

from __future__ import annotations

from rest_framework import serializers

from integrations.models import InboxMessage, OutboxMessage


class OutboxMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxMessage
        fields = [
            "id",
            "message_id",
            "system",
            "kind",
            "key",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_error",
            "last_status_code",
            "created_at",
            "delivered_at",
            "replayed_count",
        ]
        read_only_fields = fields


class InboxMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboxMessage
        fields = [
            "id",
            "system",
            "kind",
            "message_id",
            "payload",
            "status",
            "attempts",
            "last_error",
            "result",
            "received_at",
            "processed_at",
        ]
        read_only_fields = fields


class ReceiptSerializer(serializers.Serializer):
    """The answer to an inbound message: what became of it."""

    id = serializers.IntegerField()
    message_id = serializers.CharField()
    status = serializers.CharField()
    duplicate = serializers.BooleanField()
    result = serializers.JSONField(allow_null=True)
    detail = serializers.CharField(allow_blank=True)


class ErrorSerializer(serializers.Serializer):
    """An API error (RFC 9457 problem details, `application/problem+json`, with our members)."""

    type = serializers.CharField(help_text="urn:mes:problem:<code>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(help_text="The path of the request.")
    request_id = serializers.CharField(help_text="The X-Request-ID of the call (also on its audit events).")
    code = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.JSONField()

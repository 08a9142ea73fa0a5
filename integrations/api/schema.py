"""OpenAPI: how to authenticate (the integration token) and the content type of errors."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.api.auth.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Integration account token: `Token <token>` (or `Bearer <token>`).",
        }


def problem_json_errors(result, generator, request, public):
    """Post-processing hook: every documented error answer (4xx, 5xx) is `application/problem+json`."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                content = response.get("content") if isinstance(response, dict) else None
                if str(status)[:1] in ("4", "5") and content and "application/json" in content:
                    content["application/problem+json"] = content.pop("application/json")
    return result

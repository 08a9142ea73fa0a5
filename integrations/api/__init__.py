"""The REST API (/api/v1/): token authentication per integration account, audited calls,
structured errors, OpenAPI schema at /api/schema/ and documentation at /api/docs/."""

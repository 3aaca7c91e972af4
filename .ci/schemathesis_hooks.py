"""schemathesis hooks for hb: POST /api/v1/config/plan takes a config file as TOML
(`application/toml`, a string in the OpenAPI document); send the text as it is."""

import schemathesis


@schemathesis.serializer("application/toml")
def toml_text(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    # Data that is not a string (a negative case): still bytes, which hb must refuse.
    return repr(value).encode("utf-8")

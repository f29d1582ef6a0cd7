"""Post-processing of the OpenAPI schema, so that it says what the API answers (API.md).

A text field with no value answers ``""``, never ``null`` (the columns are ``blank=True``, not
nullable). drf-spectacular documents a read-only model field with the format or the choices of
its column (``uri``, ``email``, an enum), which ``""`` does not match; this hook says that every
read-only string with a format or choices may also be ``""``.
"""

from typing import Any

from drf_spectacular import openapi

BLANK = {"type": "string", "enum": [""], "description": "No value."}
BLANK_REF = {"$ref": "#/components/schemas/Blank"}
STRING_FORMATS = {"uri", "email", "uuid", "ipv4", "ipv6", "hostname"}


def _enum_ref(prop: dict[str, Any]) -> str | None:
    if "$ref" in prop:
        return prop["$ref"]
    parts = prop.get("allOf")
    if isinstance(parts, list) and len(parts) == 1 and "$ref" in parts[0]:
        return parts[0]["$ref"]
    return None


def _allow_blank(prop: dict[str, Any], components: dict[str, Any]) -> None:
    if prop.get("type") == "string" and prop.get("format") in STRING_FORMATS:
        prop["anyOf"] = [{"format": prop.pop("format")}, {"maxLength": 0}]
        return
    if prop.get("type") == "string" and "enum" in prop and "" not in prop["enum"]:
        prop["enum"] = [*prop["enum"], ""]
        return
    ref = _enum_ref(prop)
    if ref is None:
        return
    target = components.get(ref.rsplit("/", 1)[-1], {})
    if "enum" not in target or "" in target["enum"]:
        return
    prop.pop("$ref", None)
    prop.pop("allOf", None)
    prop["oneOf"] = [{"$ref": ref}, BLANK_REF]


def allow_blank_read_only_strings(
    result: dict[str, Any], generator: Any, request: Any, public: Any
) -> dict[str, Any]:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry (after its enum hook)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for component in list(components.values()):
        for prop in (component.get("properties") or {}).values():
            if prop.get("readOnly"):
                _allow_blank(prop, components)
    components.setdefault("Blank", BLANK)
    return result


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema generator, documenting the error answers every endpoint can give
    besides those its ``@extend_schema`` lists (the shared set of ``crm_site.api.error_responses``):

    - 400 when it takes a body or query parameters, 413 and 415 when it takes a body;
    - 401 and 403 (not signed in, not allowed, a CSRF failure of a session);
    - 404 when its path names an object, or it is a paginated list (a page past the end);
    - 429 everywhere (throttles, lockouts).
    """

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        from crm_site.api import error_responses  # not at import: DRF loads this class early

        responses = super()._get_response_bodies(direction)
        codes = {401, 403, 429}
        has_body = self.method in ("POST", "PUT", "PATCH")
        if has_body:
            codes |= {400, 413, 415}
        if self.method == "GET" and (self._get_filter_parameters() or self.get_override_parameters()):
            codes.add(400)
        if "{" in self.path or (self.method == "GET" and getattr(self.view, "pagination_class", None)):
            codes.add(404)
        for code, response in error_responses(*sorted(codes)).items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(response, str(code), direction=direction)
        return responses

"""The sandbox's JSON Schema subset: what pydantic writes for settings, checked as Crisp
checks a save (the first problem, rooted at ``data``, naming the field)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from crisp_plugin.sandbox.json_schema import JsonSchema, SchemaError


class Tone(StrEnum):
    friendly = "friendly"
    formal = "formal"


class Hours(BaseModel):
    start: int = Field(9, ge=0, le=23)
    end: int = Field(18, ge=0, le=23)


class Settings(BaseModel):
    """What a plugin author declares; the sandbox validates its model_json_schema()."""

    enabled: bool = True
    message: str = Field("Hello!", min_length=1, max_length=40, description="the reply")
    tone: Tone = Tone.friendly
    mode: Literal["auto"] = "auto"
    delay: float = Field(0.5, gt=0, lt=10)
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")
    hours: Hours = Hours()
    tags: list[str] = Field(default_factory=list, max_length=3)
    retries: int = Field(1, ge=0)


@pytest.fixture(scope="module")
def schema() -> JsonSchema:
    raw = Settings.model_json_schema()
    raw["additionalProperties"] = False
    assert "$defs" in raw  # the nested model and the enum are references
    return JsonSchema(raw)


def test_the_defaults_and_a_full_valid_object_fit(schema: JsonSchema) -> None:
    assert schema.problem(Settings().model_dump(mode="json")) is None
    full = {
        "enabled": False,
        "message": "Back soon",
        "tone": "formal",
        "mode": "auto",
        "delay": 2,
        "email": "ops@example.com",
        "hours": {"start": 8, "end": 20},
        "tags": ["a", "b"],
        "retries": 3.0,  # an integral float is an integer, as in JSON
    }
    assert schema.problem(full) is None
    assert schema.problem({}) is None  # nothing is required: pydantic's defaults apply


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"enabled": "yes"}, "data.enabled should be boolean"),
        ({"message": ""}, "data.message should NOT be shorter than 1 characters"),
        ({"message": "x" * 41}, "data.message should NOT be longer than 40 characters"),
        ({"tone": "rude"}, "data.tone should be equal to one of the allowed values"),
        ({"mode": "manual"}, "data.mode should be equal to constant auto"),
        ({"delay": 0}, "data.delay should be > 0"),
        ({"delay": 10}, "data.delay should be < 10"),
        ({"email": "nobody"}, "data.email should match pattern"),
        ({"email": 3}, "data.email should be string,null"),
        ({"hours": {"start": 24}}, "data.hours.start should be <= 23"),
        ({"hours": {"end": -1}}, "data.hours.end should be >= 0"),
        ({"hours": "9-18"}, "data.hours should be object"),
        ({"tags": ["a", 2]}, "data.tags[1] should be string"),
        ({"tags": ["a", "b", "c", "d"]}, "data.tags should NOT have more than 3 items"),
        ({"retries": 1.5}, "data.retries should be integer"),
        ({"retries": True}, "data.retries should be integer"),
        ({"colour": "red"}, "data should NOT have additional properties ('colour')"),
    ],
)
def test_each_kind_of_misfit_names_the_field(
    schema: JsonSchema, settings: dict[str, Any], problem: str
) -> None:
    found = schema.problem(settings)
    assert found is not None and found.startswith(problem), found


def test_required_and_types_of_a_hand_written_schema() -> None:
    schema = JsonSchema(
        {
            "type": "object",
            "required": ["token"],
            "properties": {
                "token": {"type": "string"},
                "ratio": {"type": "number", "minimum": 0, "maximum": 1},
                "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        }
    )
    assert schema.problem({"token": "t", "ratio": 0.5, "extra": {"a": 1}}) is None
    assert schema.problem({}) == "data should have required property 'token'"
    assert schema.problem({"token": "t", "ratio": 2}) == "data.ratio should be <= 1"
    assert schema.problem({"token": "t", "extra": {"a": "1"}}) == "data.extra.a should be integer"
    assert schema.problem({"token": "t", "odd key": 1}) is None  # additional allowed here


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"type": "object", "not": {}}, "not"),
        ({"type": "object", "properties": {"a": {"type": "strng"}}}, "schema.properties.a.type"),
        ({"type": "object", "properties": {"a": {"pattern": "("}}}, "not a regular expression"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}}, "points at nothing"),
        ({"type": "object", "properties": {"a": {"$ref": "https://x/y"}}}, "only references"),
        ({"type": "object", "$defs": {"A": {"$ref": "#/$defs/A"}}}, "loop"),
        ({"type": "object", "properties": {"a": {"minLength": -1}}}, "whole number"),
        ({"type": "object", "properties": {"a": {"enum": []}}}, "non-empty list"),
        ("object", "should be a JSON object"),
    ],
)
def test_a_schema_it_cannot_check_is_refused_naming_why(bad: Any, named: str) -> None:
    with pytest.raises(SchemaError, match=named):
        JsonSchema(bad)


def test_deep_data_is_refused_not_a_crash() -> None:
    schema = JsonSchema(
        {
            "$ref": "#/$defs/Node",
            "$defs": {"Node": {"type": "object", "additionalProperties": {"$ref": "#/$defs/Node"}}},
        }
    )
    value: dict[str, Any] = {}
    node = value
    for _ in range(200):
        node["n"] = {}
        node = node["n"]
    problem = schema.problem(value)
    assert problem is not None and "nests deeper" in problem

"""Property-based: any JSON a client sends, or any strings a browser posts, to any form of the process
library is read and validated into field errors — never an exception, never a value no database can
store, never a text over its limit."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import forms
from engine.definitions import load_bundle
from engine.forms import submission
from engine.forms.data import unstorable_paths
from engine.forms.schema import text_limit

LIBRARY = load_bundle(Path(__file__).resolve().parents[3] / "processes")
SCHEMAS = {key: forms.load_schema(LIBRARY.forms, key) for key in sorted(LIBRARY.forms)}
text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30) | st.sampled_from(
    ["\x00", "\ud800", "9999-12-31", "1899-01-01", "2024-02-30", "x" * 2_001, "长" * 50_001]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


def _field_names(schema):
    return sorted((schema.get("properties") or {}).keys())


@st.composite
def submissions(draw: st.DrawFn):
    key = draw(st.sampled_from(sorted(SCHEMAS)))
    schema = SCHEMAS[key]
    names = st.sampled_from(_field_names(schema) or ["x"]) | text
    if draw(st.booleans()):
        data = draw(st.dictionaries(names, json_values, max_size=6))
    else:
        data = submission.Posted(draw(st.dictionaries(names, st.lists(text, min_size=1, max_size=3), max_size=6)))
    return schema, data


@given(case=submissions())
@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_any_submission_becomes_field_errors(case):
    schema, submitted = case
    data, problems = submission.read(schema, submitted)
    errors = {**problems, **forms.validate(schema, data)}
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in errors.items())
    if not errors:  # what would be stored: storable, and within the limits
        assert unstorable_paths(data) == []
        for name, prop in (schema.get("properties") or {}).items():
            limit = text_limit(prop)
            if limit is not None and isinstance(data.get(name), str):
                assert len(data[name]) <= limit

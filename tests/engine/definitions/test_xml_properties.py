"""Property-based: whatever bytes arrive as a BPMN file, deploy answers with a DeployError naming the
file (or deploys it) — never another exception, an entity expansion or a read of a local file.

Mutations start from a real process of the test library: bytes flipped, cut, repeated or replaced,
and hostile XML spliced in (DOCTYPE with entities, external entities, deep nesting, huge attributes).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.definitions import compile_bundle, load_bundle
from engine.errors import DeployError

LIB = Path(__file__).resolve().parents[2] / "fixtures" / "lib"
BASE = sorted((LIB / "bpmn").glob("*.bpmn"))[0]
ORIGINAL = BASE.read_bytes()
LIBRARY = load_bundle(LIB)

HOSTILE = [
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b"&e;",
    b"<a>" * 3000 + b"</a>" * 3000,
    b'<bpmn:userTask id="' + b"x" * 100_000 + b'"/>',
    b"\x00\xff\xfe",
    b"<![CDATA[" + b"]" * 10 + b"]]>",
    b'<?xml version="1.0" encoding="UTF-16"?>',
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(ORIGINAL)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(data)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "hostile", "repeat"]))
        if kind == "flip" and at < len(data):
            data[at] ^= draw(st.integers(min_value=1, max_value=255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(min_value=1, max_value=400))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif kind == "hostile":
            data[at:at] = draw(st.sampled_from(HOSTILE))
        else:
            data[at:at] = bytes(data[at : at + 200]) * draw(st.integers(min_value=2, max_value=50))
    return bytes(data)


@given(content=mutated())
@settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_any_bytes_deploy_or_give_a_deploy_error(content):
    try:
        compiled = compile_bundle(LIBRARY.with_bpmn(BASE.name, content))
    except DeployError as exc:
        assert exc.problems and all(p.get("reason") for p in exc.problems)
        return
    # Deployed: then nothing hostile went in (no entity was expanded, no local file was read).
    assert compiled is not None
    assert b"root:" not in repr(compiled).encode()

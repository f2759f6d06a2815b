"""engine.forms: fields, coercion of HTML strings, Chinese validation messages, split and masking."""

from __future__ import annotations

import pytest

from engine import forms
from engine.errors import NotFound

SCHEMA = {
    "title": "测试表单",
    "type": "object",
    "required": ["clue_no", "disposal", "received", "approved"],
    "properties": {
        "clue_no": {
            "type": "string",
            "title": "线索编号",
            "description": "案管室统一编号",
            "x-process": True,
            "maxLength": 20,
        },
        "disposal": {
            "title": "处置方式",
            "x-process": True,
            "oneOf": [{"const": "tanhua_hanxun", "title": "谈话函询"}, {"const": "chubu_heshi", "title": "初步核实"}],
        },
        "received": {"type": "string", "format": "date", "title": "收到日期"},
        "meeting_at": {"type": "string", "format": "date-time", "title": "会商时间"},
        "count": {"type": "integer", "title": "涉及人数", "minimum": 1},
        "amount": {"type": "number", "title": "涉案金额"},
        "approved": {"type": "boolean", "title": "同意", "x-process": True},
        "summary": {"type": "string", "title": "摘要", "x-widget": "textarea"},
        "units": {
            "type": "array",
            "title": "协查单位",
            "items": {"type": "string", "x-options": "units:supervision_office"},
        },
        "tags": {
            "type": "array",
            "title": "问题类型",
            "items": {"oneOf": [{"const": "sifeng", "title": "四风"}, {"const": "fubai", "title": "腐败"}]},
        },
        "notes": {"type": "array", "title": "备注", "items": {"type": "string"}},
        "handler": {"type": "string", "title": "承办人", "x-options": "users:supervision_office"},
        "reporter_name": {"type": "string", "title": "检举人姓名", "x-confidential": True},
        "reporter_phone": {"type": "string", "title": "检举人电话", "x-confidential": True, "x-process": True},
    },
}


def test_load_schema():
    assert forms.load_schema({"a": {"type": "object"}}, "a") == {"type": "object"}
    assert forms.load_schema({}, None)["properties"] == {}
    with pytest.raises(NotFound):
        forms.load_schema({}, "missing")


def test_fields_choose_widgets_labels_and_required_marks():
    options = {"units": [("jc1", "第一监督检查室")], "handler": [("so1", "刘洋")]}
    by_name = {f.name: f for f in forms.fields(SCHEMA, options)}
    assert list(by_name) == list(SCHEMA["properties"])
    assert by_name["clue_no"].widget == "text" and by_name["clue_no"].required
    assert by_name["clue_no"].description == "案管室统一编号" and by_name["clue_no"].max_length == 20
    assert by_name["disposal"].widget == "radio"
    assert by_name["disposal"].options == [("tanhua_hanxun", "谈话函询"), ("chubu_heshi", "初步核实")]
    assert by_name["received"].widget == "date" and by_name["meeting_at"].widget == "datetime"
    assert by_name["count"].widget == "integer" and by_name["count"].min == 1
    assert by_name["approved"].widget == "boolean" and by_name["approved"].options == [(True, "是"), (False, "否")]
    assert by_name["summary"].widget == "textarea"
    assert by_name["units"].widget == "checkboxes" and by_name["units"].options == [("jc1", "第一监督检查室")]
    assert by_name["tags"].widget == "checkboxes" and by_name["tags"].options[1] == ("fubai", "腐败")
    assert by_name["notes"].widget == "lines"
    assert by_name["handler"].widget == "select" and by_name["handler"].options_source == "users:supervision_office"
    assert by_name["reporter_name"].confidential and not by_name["summary"].required


def test_coerce_turns_strings_into_schema_types():
    posted = {
        "clue_no": ["XS-1"],
        "disposal": ["tanhua_hanxun"],
        "received": ["2024-03-04"],
        "meeting_at": ["2024-03-05T09:30"],
        "count": ["3"],
        "amount": ["12.5"],
        "approved": ["false"],
        "summary": [""],
        "units": ["jc1", "jc2", ""],
        "tags": ["fubai"],
        "notes": ["一\n\n二 "],
    }
    data, errors = forms.coerce(SCHEMA, posted)
    assert errors == {}
    assert data == {
        "clue_no": "XS-1",
        "disposal": "tanhua_hanxun",
        "received": "2024-03-04",
        "meeting_at": "2024-03-05T09:30:00+08:00",
        "count": 3,
        "amount": 12.5,
        "approved": False,
        "units": ["jc1", "jc2"],
        "tags": ["fubai"],
        "notes": ["一", "二"],
    }


def test_coerce_reports_unreadable_values():
    data, errors = forms.coerce(SCHEMA, {"count": ["三"], "amount": ["1,5"], "approved": ["maybe"]})
    assert errors == {"count": "请输入整数", "amount": "请输入数字", "approved": "请选择“是”或“否”"}
    assert data == {}


def test_validate_gives_chinese_messages_per_field():
    data = {
        "clue_no": "X" * 21,
        "disposal": "zancun",
        "received": "2024-02-30",
        "meeting_at": "not a time",
        "count": 0,
        "approved": "yes",
        "units": ["jc9"],
    }
    errors = forms.validate(SCHEMA, data, options={"units": [("jc1", "第一室")]})
    assert errors == {
        "clue_no": "最多 20 个字",
        "disposal": "请从给出的选项中选择",
        "received": "请输入1900年至2100年之间的有效日期（年-月-日，如 2024-03-04）",
        "meeting_at": "请输入1900年至2100年之间的有效日期和时间",
        "count": "不能小于 1",
        "approved": "应为是或否",
        "units": "请从给出的选项中选择",
    }


@pytest.mark.parametrize("received", ["9999-12-31", "1899-12-31", "2101-01-01", "0001-01-01"])
def test_dates_outside_1900_to_2100_are_refused_by_field(received):
    # 9999-12-31 used to be stored, and every later step of the instance then overflowed.
    errors = forms.validate(SCHEMA, {"received": received, "meeting_at": f"{received}T09:00:00+08:00"})
    assert errors["received"].startswith("请输入1900年至2100年之间")
    assert errors["meeting_at"].startswith("请输入1900年至2100年之间")


def test_validate_required_and_valid():
    assert forms.validate(SCHEMA, {}) == dict.fromkeys(("clue_no", "disposal", "received", "approved"), "此项为必填项")
    valid = {
        "clue_no": "XS-1",
        "disposal": "chubu_heshi",
        "received": "2024-03-04",
        "approved": True,
        "meeting_at": "2024-03-05T09:30:00+08:00",
    }
    assert forms.validate(SCHEMA, valid) == {}
    assert forms.validate(SCHEMA, {**valid, "meeting_at": "2024-03-05T09:30:00"}) == {
        "meeting_at": "请输入1900年至2100年之间的有效日期和时间"
    }


def test_nested_errors_name_their_path():
    schema = {
        "type": "object",
        "properties": {
            "people": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                },
            }
        },
    }
    errors = forms.validate(schema, {"people": [{"name": "甲"}, {"age": "x"}]})
    assert errors == {"people.1.name": "此项为必填项", "people.1.age": "应为整数"}


def test_split_keeps_confidential_fields_out_of_process_data_and_record():
    data = {
        "clue_no": "XS-1",
        "disposal": "chubu_heshi",
        "approved": True,
        "summary": "摘要",
        "reporter_name": "李某",
        "reporter_phone": "138",
    }
    process_data, record, confidential = forms.split(SCHEMA, data)
    assert process_data == {"clue_no": "XS-1", "disposal": "chubu_heshi", "approved": True}  # not the phone
    assert record == {"clue_no": "XS-1", "disposal": "chubu_heshi", "approved": True, "summary": "摘要"}
    assert confidential == {"reporter_name": "李某", "reporter_phone": "138"}


def test_mask_and_display():
    record = {"clue_no": "XS-1", "disposal": "chubu_heshi", "approved": False, "tags": ["sifeng", "fubai"]}
    secret = {"reporter_name": "李某"}
    assert forms.mask(SCHEMA, record, secret)["reporter_name"] == forms.MASK
    assert forms.mask(SCHEMA, record, secret, reveal=True)["reporter_name"] == "李某"
    rows = {r.name: r for r in forms.display(SCHEMA, record, sealed_present=True)}
    assert rows["disposal"].value == "初步核实" and rows["approved"].value == "否"
    assert rows["tags"].value == "四风、腐败"
    assert rows["reporter_name"].masked and rows["reporter_name"].value == forms.MASK
    shown = {r.name: r for r in forms.display(SCHEMA, {**record, **secret}, sealed_present=True, revealed=True)}
    assert shown["reporter_name"].value == "李某" and not shown["reporter_name"].masked
    units = {r.name: r.value for r in forms.display(SCHEMA, {"units": ["jc1"]}, options={"units": [("jc1", "第一室")]})}
    assert units == {"units": "第一室"}


def test_form_values_round_trip_through_coerce():
    data = {
        "clue_no": "XS-1",
        "approved": True,
        "count": 2,
        "meeting_at": "2024-03-05T01:30:00+00:00",
        "tags": ["fubai"],
        "notes": ["一", "二"],
    }
    values = forms.form_values(SCHEMA, data)
    assert values == {
        "clue_no": "XS-1",
        "approved": "true",
        "count": "2",
        "meeting_at": "2024-03-05T09:30",
        "tags": ["fubai"],
        "notes": "一\n二",
    }
    posted = {k: (v if isinstance(v, list) else [v]) for k, v in values.items()}
    back, errors = forms.coerce(SCHEMA, posted)
    assert errors == {} and back == {**data, "meeting_at": "2024-03-05T09:30:00+08:00"}


def test_resolve_options_reads_the_organisation(db):
    from engine.organisation.directory import import_organisation

    with db.session() as s:
        import_organisation(
            s,
            {
                "units": [
                    {"code": "a", "name": "甲室", "name_en": "Office A", "kind": "office", "sort": 2},
                    {"code": "b", "name": "乙室", "kind": "office", "sort": 1},
                    {"code": "c", "name": "丙室", "kind": "office", "active": False},
                ],
                "users": [
                    {"username": "u1", "name": "一号", "roles": [{"unit": "a", "role": "supervision_office"}]},
                    {"username": "u2", "name": "二号", "roles": [{"unit": "b", "role": "supervision_office"}]},
                    {"username": "u3", "name": "三号", "roles": [{"unit": "c", "role": "supervision_office"}]},
                    {
                        "username": "u4",
                        "name": "四号",
                        "active": False,
                        "roles": [{"unit": "a", "role": "supervision_office"}],
                    },
                ],
            },
        )
        options = forms.resolve_options(s, SCHEMA)
        english = forms.resolve_options(s, SCHEMA, locale="en")
    assert options["units"] == [("b", "乙室"), ("a", "甲室")]  # active units holding the role, by sort
    assert english["units"] == [("b", "乙室"), ("a", "Office A")]
    # people pickers show each account with its unit (two officers may share a name); the username is stored
    assert options["handler"] == [("u1", "一号（甲室）"), ("u2", "二号（乙室）"), ("u3", "三号（丙室）")]


# --------------------------------------------------------------------------- nested fields and signatures
def _nested_schema():
    import json
    from pathlib import Path

    lib = Path(__file__).resolve().parents[2] / "fixtures" / "lib" / "forms"
    return json.loads((lib / "register.json").read_text()), json.loads((lib / "approve.json").read_text())


def test_nested_groups_and_repeating_rows_round_trip():
    from engine import forms

    register, _ = _nested_schema()
    posted = {
        "clue_no": ["XS-1"],
        "handling_unit": ["jc1"],
        "reported_person.name": ["多吉"],
        "reported_person.rank": ["gu"],
        "evidence.0.title": ["发放台账"],
        "evidence.0.pages": ["12"],
        "evidence.1.title": [""],
        "evidence.1.pages": [""],
    }
    data, errors = forms.coerce(register, posted)
    assert errors == {}
    assert data["reported_person"] == {"name": "多吉", "rank": "gu"}
    assert data["evidence"] == [{"title": "发放台账", "pages": 12}]  # the empty row is dropped
    assert forms.validate(register, data) == {}
    values = forms.form_values(register, data)
    assert values["reported_person.rank"] == "gu" and values["evidence.0.pages"] == "12"
    laid_out = forms.fields(register, values=values)
    repeat = next(f for f in laid_out if f.name == "evidence")
    assert repeat.widget == "repeat" and len(repeat.rows) == 2  # one filled row, one empty to add another
    assert [f.name for f in repeat.rows[1]] == ["evidence.1.title", "evidence.1.pages"]
    shown = {r.name: r.value for r in forms.display(register, data)}
    assert shown["reported_person"] == "姓名：多吉；职级：股级"


def test_nested_errors_are_named_by_dotted_path():
    from engine import forms

    register, _ = _nested_schema()
    data, errors = forms.coerce(register, {"evidence.0.title": ["台账"], "evidence.0.pages": ["十二"]})
    assert errors == {"evidence.0.pages": "请输入整数"}
    data, _ = forms.coerce(
        register,
        {"clue_no": ["XS-1"], "handling_unit": ["jc1"], "reported_person.rank": ["gu"], "evidence.0.pages": ["0"]},
    )
    problems = forms.validate(register, data)
    assert problems["reported_person.name"] and problems["evidence.0.title"] and problems["evidence.0.pages"]


def test_signature_is_the_authenticated_person_and_the_servers_time():
    import datetime as dt

    from engine import forms
    from engine.clock import LOCAL_TZ

    _, approve = _nested_schema()
    typed = {"approved": True, "signature": {"signer": "冒名者", "signed_at": "2020-01-01T00:00:00+08:00"}}
    at = dt.datetime(2024, 3, 5, 9, 30, tzinfo=LOCAL_TZ)
    signed = forms.sign(approve, typed, signer="马成志", at=at)
    assert signed["signature"] == {"signer": "马成志", "signed_at": "2024-03-05T09:30:00+08:00"}
    assert forms.validate(approve, signed) == {}
    assert [f.widget for f in forms.fields(approve)] == ["boolean", "text", "signature"]
    data, _ = forms.coerce(approve, {"approved": ["true"], "signature": ["冒名者"]})
    assert "signature" not in data  # never read from the post

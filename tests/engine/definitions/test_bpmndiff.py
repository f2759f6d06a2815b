"""The structural diff of two versions of a BPMN file and of its forms (engine/definitions/bpmndiff.py)."""

from pathlib import Path

from engine.definitions.bpmndiff import Change, diff_files, diff_forms, form_keys

LIB = Path(__file__).resolve().parents[2] / "fixtures" / "lib"
OLD = (LIB / "bpmn" / "clue_simple.bpmn").read_text(encoding="utf-8")


def _new() -> str:
    new = OLD.replace(
        '<spiffworkflow:property name="dueIn" value="propose"/>',
        '<spiffworkflow:property name="dueIn" value="approve"/>',
    )
    new = new.replace('name="登记线索"', 'name="登记问题线索"')
    new = new.replace("disposal == 'liaojie'", "disposal in ['liaojie', 'close']")
    # 阅知 removed: the flow from approve goes straight to the end
    new = new.replace(
        '<bpmn:intermediateThrowEvent id="notify">',
        '<bpmn:manualTask id="archive" name="归档"><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:manualTask>'
        '<bpmn:intermediateThrowEvent id="notify_old">',
    )
    new = new.replace(
        '<bpmn:sequenceFlow id="f4" sourceRef="approve" targetRef="notify"/>',
        '<bpmn:sequenceFlow id="f4" sourceRef="approve" targetRef="archive"/>',
    )
    new = new.replace(
        '<bpmn:sequenceFlow id="f5" sourceRef="notify" targetRef="end_done"/>',
        '<bpmn:sequenceFlow id="f5" sourceRef="archive" targetRef="end_done"/>',
    )
    return new


def test_the_diff_names_added_removed_and_changed_elements_with_their_properties():
    diff = diff_files(OLD, _new(), "clue_simple.bpmn")
    assert not diff.unreadable
    assert {e.id for e in diff.of("added")} >= {"archive"}
    assert {e.id for e in diff.of("removed")} >= {"notify"}
    changed = {e.id: e for e in diff.of("changed")}
    assert Change("property:dueIn", "propose", "approve") in changed["propose"].changes
    assert Change("name", "登记线索", "登记问题线索") in changed["register"].changes
    assert changed["register"].name == "登记问题线索"
    assert (
        Change("condition", "disposal == 'liaojie'", "disposal in ['liaojie', 'close']") in changed["f_close"].changes
    )
    assert Change("targetRef", "notify", "archive") in changed["f4"].changes
    assert diff.summary["added"] >= 1 and diff.summary["removed"] >= 1


def test_the_same_file_has_no_changes_and_layout_is_not_a_change():
    assert diff_files(OLD, OLD).elements == ()
    moved = OLD.replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="register"/>',
        '<bpmn:sequenceFlow targetRef="register" sourceRef="start" id="f1"/>',
    )
    assert diff_files(OLD, moved).elements == ()


def test_a_missing_or_unreadable_side():
    added = diff_files(None, OLD)
    assert added.of("removed") == () and {e.id for e in added.of("added")} >= {"register", "gt_test_clue"}
    broken = diff_files(OLD, "<bpmn:definitions")
    assert broken.unreadable == ("b",)


def test_form_changes_name_fields_added_removed_and_changed():
    old = {
        "propose": {
            "title": "提出",
            "required": ["disposal"],
            "properties": {"disposal": {"type": "string", "title": "处置"}, "reason": {"type": "string"}},
        }
    }
    new = {
        "propose": {
            "title": "提出",
            "required": ["disposal", "basis"],
            "properties": {"disposal": {"type": "string", "title": "处置方式"}, "basis": {"type": "string"}},
        },
        "extra": {"properties": {}},
    }
    (extra, propose) = diff_forms(old, new)
    assert (extra.form, extra.change) == ("extra", "added")
    assert propose.fields_added == ("basis",) and propose.fields_removed == ("reason",)
    assert propose.fields_changed == (("disposal", (Change("title", "处置", "处置方式"),)),)
    assert propose.changes == (Change("required", '["disposal"]', '["disposal", "basis"]'),)
    assert diff_forms(old, new, keys={"propose"}) == (propose,)
    assert form_keys(OLD) == {"register", "propose", "approve"}

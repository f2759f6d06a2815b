"""The use cases read records through the need-to-know gate: a lane that reads only what is addressed to
it gets the declared fields of its brief while its task is open, its own record afterwards, and no
attachment it was not given; a lane that reads the file reads it as before.

The test library's 监督检查室 is made such an outside lane here (roles.yaml ``reads: addressed``) and its
提出处置意见 declares the clue number of the registration as its brief."""

from __future__ import annotations

import copy
import dataclasses
import io

import pytest

from engine.definitions import compile_bundle, load_bundle
from engine.errors import NotVisible
from engine.instances import operations as instances
from engine.tasks import operations as tasks
from tests.conftest import FIXTURES
from tests.engine.usecases import REGISTER, REVEAL, ready

UNIT = '<spiffworkflow:property name="unitVar" value="handling_unit"/>'


@pytest.fixture
def outside(services):
    """The test library again, with 监督检查室 reading only the registration's clue number."""
    bundle = load_bundle(FIXTURES / "lib")
    roles = copy.deepcopy(bundle.roles)
    for role in roles["roles"]:
        if role["code"] == "supervision_office":
            role["reads"] = "addressed"
    content = bundle.bpmn["clue_simple.bpmn"].decode()
    declared = UNIT + '<spiffworkflow:property name="reads" value="register.clue_no"/>'
    bundle = dataclasses.replace(bundle, roles=roles).with_bpmn(
        "clue_simple.bpmn", content.replace(UNIT, declared).encode()
    )
    services.definitions.deploy(compile_bundle(bundle), actor="tester")
    return services


def _registered_with_a_file(services, who):
    started = instances.start_instance(services, who("cm1"), "gt_test_clue", business_key="XS-9")
    upload = tasks.upload_attachment(
        services, who("cm1"), started.own_task, filename="检举材料.pdf", stream=io.BytesIO(b"%PDF-1.4 x")
    )
    tasks.submit_task(services, who("cm1"), started.own_task, dict(REGISTER), reveal=REVEAL)
    return started.instance_id, upload.id, ready(services, "propose")[0]


def test_an_outside_lane_reads_its_brief_only_while_its_task_is_open(outside, who):
    services = outside
    instance_id, file_id, propose = _registered_with_a_file(services, who)

    for name in ("so1", "so1b"):  # both may take the open task: both read its brief, nothing more
        view = tasks.show_task(services, who(name), propose, reveal=REVEAL)
        assert [(s.name, s.data) for s in view.steps] == [("登记线索", {"clue_no": "XS-9"})]
        assert [f.name for f in view.steps[0].shown] == ["clue_no"]  # no empty lines for the rest
        assert view.attachments == []
    with pytest.raises(NotVisible) as refused:
        tasks.download_attachment(services, who("so1"), file_id, reveal=REVEAL)
    assert refused.value.reason == "outside_need_to_know"

    tasks.claim_task(services, who("so1"), propose)  # once so1 holds it, the brief is his alone
    assert tasks.show_task(services, who("so1b"), propose, reveal=REVEAL).steps == []
    assert instances.show_instance(services, who("so1b"), instance_id, reveal=REVEAL).reads == "none"

    tasks.submit_task(services, who("so1"), propose, {"disposal": "zancun", "reason": "待查"}, reveal=REVEAL)
    done = instances.show_instance(services, who("so1"), instance_id, reveal=REVEAL)
    assert [(s.name, s.submitted_by) for s in done.steps] == [("提出处置意见", "so1")]  # only what he wrote
    assert done.reads == "none" and not done.may_read
    own = tasks.show_task(services, who("so1"), propose, reveal=REVEAL)
    assert own.steps == [] and own.own is not None  # his completed task still shows his result


def test_a_file_lane_still_reads_the_whole_file(outside, who):
    services = outside
    instance_id, file_id, _propose = _registered_with_a_file(services, who)
    detail = instances.show_instance(services, who("cm2"), instance_id, reveal=REVEAL)
    assert detail.reads == "file" and detail.may_read
    assert set(detail.steps[0].data) >= {"clue_no", "summary", "handling_unit"}
    assert [a.filename for a in detail.attachments] == ["检举材料.pdf"]
    assert tasks.download_attachment(services, who("cm2"), file_id, reveal=REVEAL).filename == "检举材料.pdf"

"""The demo state the authorization matrix calls every route against, and its snapshot.

Built once per module and database: the process library deployed, the demo county imported (every
user with the shared test password), and four cases driven by the ``Autopilot`` so that each lane the
issue names holds a live task:

- ``reply``: a 检举控告 about 多吉 (农牧局草原站, ``duoji``) routed to 第二监督检查室 and answered by
  函询: the letter waits for his reply (``t_reply``, role reported_person at 农牧局党组). An attachment
  (the 工作预案's annex) was uploaded by the office on the letter step, before him.
- ``sign``: a second 函询 about him, replied: the 党组书记 (``nmjsj``) must sign (``t_sign``).
- ``assist_x``: a 巡察 clue handled 室组地 by 第二监督检查室 with 派驻第三组, 河卡镇 and 财政局 (an X
  department): 财政局's 协查 task waits (``t_as_x``, ``qinfeng``).
- ``office``: a clue waiting for 第二监督检查室 to accept it (``t_accept``), claimed by 陈浩 (``chenhao``).

The demo's neighbouring county (共和县) and the prefecture's manager show whether one commission's
cockpit reaches another's cases. Then the worker runs past the reply's reminder date, so notifications exist; every persona gets an API
token; and the database is snapshotted. A request that may have changed anything is followed by
``restore()``, so every call of the matrix sees the same state (see test_authorization_matrix.py).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text, update

from demo.autopilot import Seq, fill_form
from engine import clock
from engine import forms as form_lib
from engine.access import sessions, tokens
from engine.config import Config
from engine.db import Base, Database
from engine.interference import operations as interference
from engine.models import (
    ApprovalRequest,
    Attachment,
    HumanTask,
    Membership,
    Notification,
    ProcessInstance,
    UnitLink,
    User,
)
from engine.organisation import names
from engine.organisation import operations as org
from engine.recusal import register as recusal_register
from engine.scheduling.worker import Worker
from engine.services import Services
from engine.tasks import operations as task_ops
from tests.county import password_hash
from tests.processes.driver import PROCESSES, Walk
from tests.processes.paths import BASE

START = dt.datetime(2024, 3, 4, 9, tzinfo=clock.LOCAL_TZ)

# What the officers enter in the four cases (the rest comes from the process tests' BASE values).
CASE_VALUES = {
    **BASE,
    "host_unit": "qh_nmj_dz",
    "handling_unit": "qh_jc2",
    "disposal_method": "tanhua_hanxun",
    "inquiry_mode": "letter",
    "inquiry_result": "close",
    "reported_person": {"name": "多吉", "unit": "县农牧水利和科技局草原站", "position": "站长", "rank": "gu"},
}


# Not in the demo county: a neighbouring county's commission with a 案管室 manager, so that the matrix
# shows whether a cockpit role of one commission reaches another commission's cases (it must not).
@dataclass
class DemoState:
    """The ids and names the matrix's URLs are built from."""

    tasks: dict[str, int] = field(default_factory=dict)  # target name -> human task id
    task_forms: dict[str, dict] = field(default_factory=dict)  # target name -> a valid API completion
    instances: dict[str, int] = field(default_factory=dict)  # target name -> instance id
    attachment_id: int = 0
    notification_id: int = 0
    version_id: int = 0
    bpmn_file: str = ""
    bpmn_xml: str = ""
    bpmn_base_sha: str = ""
    form_key: str = ""
    user_ids: dict[str, int] = field(default_factory=dict)
    membership_id: int = 0
    link_id: int = 0
    tokens: dict[str, str] = field(default_factory=dict)  # username -> raw API token
    conflict_id: int = 0  # a conflict (回避) registered on the 函询 case, not decided yet
    entry_id: int = 0  # an interference entry (干预登记) on the 函询 case
    request_id: int = 0  # a reveal-role grant waiting for a second person's approval
    session_id: int = 0  # one of 陈浩's server-side sessions
    copy_id: int = 0  # the office's case sent by 陈浩 for reading (抄送) to another reader of its file
    phrase_id: int = 0  # one of 韩伟's saved opinions (常用审批意见)
    # no 加签 is open (one would hold the office's task back): answering one asked of nobody is refused for all
    consultation_id: int = 424242


def _ready(walk: Walk, spec_id: str, instance_id: int | None = None) -> HumanTask:
    found = [t for t in walk.tasks(spec_id) if instance_id is None or t.instance_id == instance_id]
    assert len(found) == 1, f"expected one ready {spec_id}, found {[(t.id, t.instance_id) for t in found]}"
    return found[0]


def _api_form(walk: Walk, task: HumanTask) -> dict:
    """A completion the API accepts for ``task``: every required field filled as the autopilot would."""
    schema = walk.pilot.form_schema(task)
    with walk.db.session() as s:
        options = form_lib.resolve_options(s, schema)
    fields = schema.get("properties") or {}
    given = {k: v for k, v in walk.pilot.values.items() if k in fields and not isinstance(v, Seq) and not callable(v)}
    return {"data": fill_form(schema, given, options)}


def build(db: Database, workdir: Path, frozen: clock.FrozenClock) -> tuple[Services, DemoState]:
    """Deploy, import, drive the four cases, mint tokens; return the services and the ids."""
    walk = Walk(db, frozen, values=CASE_VALUES)
    walk.__enter__()
    with db.session() as s:
        # the demo's passwords are initial ones (changed at the first sign-in): here, already changed
        s.execute(update(User).values(password_hash=password_hash(), must_change_password=False))
    config = Config(
        database_url=db.url,
        processes_dir=PROCESSES,
        instance_dir=workdir,
        secret_key="test-secret-key-for-the-matrix",
        attachments_dir=workdir / "attachments",
        embedded_worker=False,
    )
    services = Services(config, db=db)
    state = DemoState()
    pilot = walk.pilot

    # reply: the letter reaches 多吉, after the office attached the 工作预案's annex on the letter step
    pilot.roots = set()
    pilot.start("gt_p5_intake_report", {}, actor="zhoujing")
    letter = walk.until("t_letter")
    wangfang = pilot.principal("wangfang")
    stored = task_ops.upload_attachment(
        services, wangfang, letter.id, filename="工作预案附件.txt", stream=io.BytesIO("证人：某某".encode())
    )
    state.attachment_id = stored.id
    walk.complete("t_letter", actor="wangfang")
    reply = _ready(walk, "t_reply")
    state.tasks["reply"] = reply.id
    state.instances["reply"] = reply.instance_id
    state.task_forms["reply"] = _api_form(walk, reply)

    # sign: a second letter, replied; the 党组书记 must sign
    pilot.roots = set()
    pilot.values["clue_no"] = "XS-2024-0157"
    pilot.start("gt_p5_intake_report", {}, actor="zhoujing")
    pilot.run(until=lambda ready: any(t.spec_id == "t_reply" and t.id != reply.id for t in ready))
    second = next(t for t in walk.tasks("t_reply") if t.id != reply.id)
    pilot.complete(second, actor="duoji")
    sign = _ready(walk, "t_sign")
    state.tasks["sign"] = sign.id
    state.task_forms["sign"] = _api_form(walk, sign)

    # assist_x: 室组地 with 财政局 assisting
    pilot.roots = set()
    pilot.values.update(
        clue_no="XS-2024-0158", source_category="xuncha_yijiao", joint_mode="shizudi", township_unit="qh_hk"
    )
    pilot.per_task["t_setup"] = {"l1_x_units": ["qh_czj"], "township_unit": "qh_hk"}
    pilot.send(
        "gt_msg_clue_handover",
        "XCB〔2024〕7号",
        {"source_category": "xuncha_yijiao", "transfer_doc_no": "XCB〔2024〕7号"},
    )
    pilot.run(until="t_as_x")
    assist = _ready(walk, "t_as_x")
    state.tasks["assist_x"] = assist.id
    state.instances["assist_x"] = assist.instance_id
    state.task_forms["assist_x"] = _api_form(walk, assist)

    # office: a clue for 第二监督检查室 to accept, claimed by 陈浩
    pilot.roots = set()
    pilot.values.update(clue_no="XS-2024-0159", source_category="xinfang_jubao", joint_mode="self")
    pilot.start("gt_p5_intake_report", {}, actor="zhoujing")
    pilot.run(until="t_accept")
    accept = next(t for t in walk.tasks("t_accept") if t.instance_id in pilot.scope())
    chenhao = pilot.principal("chenhao")
    task_ops.claim_task(services, chenhao, accept.id)
    state.tasks["office"] = accept.id
    state.task_forms["office"] = _api_form(walk, accept)
    walk.__exit__(None, None, None)

    # notifications: the reply's reminder (and whatever else falls due) a month later
    frozen.set(START + dt.timedelta(days=45))
    Worker(services).remind_and_escalate()
    with db.session() as s:
        note = s.scalar(select(Notification).where(Notification.task_id == reply.id).order_by(Notification.id).limit(1))
        assert note is not None, "the worker sent no reminder for the letter"
        state.notification_id = note.id

        version = services.definitions.latest_version_id(s)
        state.version_id = version
        inquiry = s.scalar(select(ProcessInstance).where(ProcessInstance.id == reply.instance_id))
        state.bpmn_file = _process_file(s, version, inquiry.process_key)
        state.bpmn_xml = services.definitions.file_content(s, version, state.bpmn_file)
        state.bpmn_base_sha = _sha(s, version, state.bpmn_file)
        state.form_key = s.scalar(select(HumanTask.form_key).where(HumanTask.id == reply.id))
        users = {u.username: u for u in s.scalars(select(User))}
        state.user_ids = {name: u.id for name, u in users.items()}
        state.membership_id = s.scalar(
            select(Membership.id).where(Membership.user_id == users["chenhao"].id).order_by(Membership.id).limit(1)
        )
        state.link_id = s.scalar(
            select(UnitLink.id).where(UnitLink.from_code == "qh_jc3", UnitLink.to_code == "qh_pz5").limit(1)
        )
        for user in users.values():
            raw, _row = tokens.issue(s, user, ttl=dt.timedelta(days=3650))
            state.tokens[user.username] = raw
        _raw, live = sessions.open_session(s, users["chenhao"], services.config, remote=None, user_agent="matrix")
        state.session_id = live.id
        conflict = recusal_register.declare(
            s,
            instance_id=state.instances["reply"],
            username="wujun",
            kind="kinship",
            reason="矩阵：与被反映人系亲属",
            declared_by="machengzhi",
        )
        state.conflict_id = conflict.id
    # an interference entry recorded by the handling office, and a reveal grant awaiting approval
    entry = interference.record_interference(
        services,
        _principal(services, "chenhao"),
        state.instances["reply"],
        {
            "intervener_name": "某领导",
            "intervener_post": "某局",
            "kind": "enquire",
            "channel": "phone",
            "occurred_at": (START + dt.timedelta(days=44)).isoformat(),
            "content": "打听案情",
            "response": "未透露",
        },
    )
    state.entry_id = entry.entry.id
    # 抄送: 陈浩 sends the case of his office task to the first persona who reads its whole file
    from engine.tasks import actions as task_actions

    readers = [
        p.username
        for p in task_actions.task_actions(services, _principal(services, "chenhao"), state.tasks["office"]).copy_to
    ]
    reader = next(u for u in ("xuqing", "liuyang", "gaoyuan", "hanwei", "machengzhi", "wangfang") if u in readers)
    from engine.tasks import phrases

    state.phrase_id = phrases.add_phrase(services, _principal(services, "hanwei"), "同意，请按程序办理。").id
    [state.copy_id] = task_actions.copy_case(
        services, _principal(services, "chenhao"), state.tasks["office"], [reader], "矩阵：请阅"
    )
    assert (
        org.add_membership(
            services, _principal(services, "secadmin"), state.user_ids["chenhao"], unit="qh_xfs", role="petition_office"
        )
        == org.PENDING
    )
    with db.session() as s:
        state.request_id = s.scalar(select(ApprovalRequest.id).order_by(ApprovalRequest.id.desc()).limit(1))
        assert s.scalar(select(Attachment.id).where(Attachment.id == state.attachment_id))
    return services, state


def _principal(services: Services, username: str):
    from engine.access.principal import load_principal

    with services.db.session() as s:
        return load_principal(s, username)


def _process_file(s, version: int, process_key: str) -> str:
    from engine.models import ProcessDefinition

    return s.scalar(
        select(ProcessDefinition.filename).where(
            ProcessDefinition.version_id == version, ProcessDefinition.process_key == process_key
        )
    )


def _sha(s, version: int, filename: str) -> str:
    from engine.models import DefinitionFile

    return s.scalar(
        select(DefinitionFile.sha256).where(DefinitionFile.version_id == version, DefinitionFile.filename == filename)
    )


# =========================================================================== snapshot and restore
class Snapshot:
    """The database as the fixture left it, put back after every request that may have changed it.

    SQLite: a copy of the file (the pool is disposed around the copy). PostgreSQL: a copy of every
    table in a schema of its own, written back with triggers and foreign keys off for the transaction
    (the audit guard refuses DELETE even to the test; a superuser may set session_replication_role):
    the deployed definitions, which never change once written, lose only rows added since the snapshot;
    every other table is emptied and refilled (DELETE, not TRUNCATE: far cheaper on tables this small).
    Either way the names cache of the services is emptied, as an organisation change through the
    admin pages would have.
    """

    SCHEMA = "matrix_snapshot"
    IMMUTABLE = ("definition_version", "definition_file", "process_definition")

    def __init__(self, services: Services):
        self.services = services
        self.db = services.db
        self.restores = 0
        if self.db.dialect == "sqlite":
            self.path = Path(self.db.engine.url.database)
            self.copy = self.path.with_suffix(".snapshot")
            self._close()
            shutil.copyfile(self.path, self.copy)
            return
        self.tables = [t.name for t in Base.metadata.sorted_tables]
        self.last_ids: dict[str, int] = {}
        with self.db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {self.SCHEMA}"))
            for name in self.tables:
                if name in self.IMMUTABLE:
                    self.last_ids[name] = conn.scalar(text(f'SELECT coalesce(max(id), 0) FROM public."{name}"'))
                else:
                    conn.execute(text(f'CREATE TABLE {self.SCHEMA}."{name}" AS SELECT * FROM public."{name}"'))

    def restore(self) -> None:
        self.restores += 1
        if self.db.dialect == "sqlite":
            self._close()
            shutil.copyfile(self.copy, self.path)
        else:
            with self.db.engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for name in reversed(self.tables):
                    if name in self.IMMUTABLE:
                        conn.execute(
                            text(f'DELETE FROM public."{name}" WHERE id > :last'), {"last": self.last_ids[name]}
                        )
                    else:
                        conn.execute(text(f'DELETE FROM public."{name}"'))
                for name in self.tables:
                    if name not in self.IMMUTABLE:
                        conn.execute(text(f'INSERT INTO public."{name}" SELECT * FROM {self.SCHEMA}."{name}"'))
        names.forget(self.services)

    def _close(self) -> None:
        """Close every pooled connection: the last one checkpoints the WAL into the file and removes it,
        so the file alone is the whole database (a WAL left beside it would be replayed onto the copy)."""
        self.db.engine.dispose()
        wal = self.path.with_name(self.path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0, "a connection is still open: the WAL was not checkpointed"

    def drop(self) -> None:
        if self.db.dialect == "sqlite":
            self.copy.unlink(missing_ok=True)
        else:
            with self.db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self.SCHEMA} CASCADE"))

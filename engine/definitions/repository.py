"""Deployed versions in the database, and their parsed specs cached in memory.

A version is immutable and addressed by the hash of its files: deploying the same bundle again returns
the stored version and stores nothing. Specs are restored from the version's stored JSON once per
process and shared by every instance pinned to that version (SpiffWorkflow specs are read-only at run
time), so loading an instance never parses XML.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.db import Database
from engine.definitions.bundle import Bundle
from engine.definitions.compiler import CompiledBundle, RoleCatalogue
from engine.errors import NotFound
from engine.models import DefinitionFile, DefinitionVersion, ProcessDefinition
from engine.runtime import state
from engine.runtime.sandbox import make_script_engine
from engine.scheduling.arrangements import book_source
from engine.scheduling.deadlines import DeadlinePolicy


@dataclass
class LoadedVersion:
    """Everything the runtime needs about one version, built once and shared."""

    id: int
    catalogue: dict[str, Any]
    forms: dict[str, Any]
    settings: dict[str, Any]
    roles: RoleCatalogue
    policy: DeadlinePolicy
    script_engine: object
    _spec_dicts: dict[str, Any] = field(repr=False, default_factory=dict)
    _specs: dict[str, Any] = field(repr=False, default_factory=dict)
    _lock: threading.Lock = field(repr=False, default_factory=threading.Lock)

    def spec(self, process_id: str) -> Any:
        spec = self._specs.get(process_id)
        if spec is None:
            with self._lock:
                spec = self._specs.get(process_id)
                if spec is None:
                    if process_id not in self._spec_dicts:
                        raise NotFound(f"process '{process_id}' is not part of version {self.id}", process=process_id)
                    spec = state.spec_from_dict(self._spec_dicts[process_id])
                    self._specs[process_id] = spec
        return spec

    def subprocess_specs(self, process_id: str) -> dict[str, Any]:
        deps = self.catalogue[process_id].get("dependencies", [])
        return {dep: self.spec(dep) for dep in deps}

    def task_meta(self, process_id: str, bpmn_id: str) -> dict[str, Any]:
        meta: dict[str, Any] = self.catalogue.get(process_id, {}).get("tasks", {}).get(bpmn_id, {})
        return meta


class DefinitionRepository:
    def __init__(self, db: Database, cache_size: int = 32):
        self.db = db
        self._cache: dict[int, LoadedVersion] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ deploy
    def deploy(
        self, compiled: CompiledBundle, *, actor: str | None = None, comment: str | None = None
    ) -> tuple[int, bool]:
        """Store a compiled bundle; returns ``(version_id, created)``. Same content: same version."""
        with self.db.session() as session:
            return self.store(session, compiled, actor=actor, comment=comment)

    def store(
        self,
        session: Session,
        compiled: CompiledBundle,
        *,
        actor: str | None = None,
        comment: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> tuple[int, bool]:
        """``deploy`` inside the caller's transaction, so a use case can check and store as one unit."""
        existing = session.scalar(
            select(DefinitionVersion.id).where(DefinitionVersion.bundle_hash == compiled.bundle_hash)
        )
        if existing is not None:
            return existing, False
        bundle = compiled.bundle
        version = DefinitionVersion(
            bundle_hash=compiled.bundle_hash,
            created_by=actor,
            comment=comment,
            specs=compiled.specs_json(),
            catalogue=compiled.catalogue,
            forms=bundle.forms,
            roles=bundle.roles,
            settings=bundle.settings,
        )
        for filename, content in sorted(bundle.bpmn.items()):
            version.files.append(
                DefinitionFile(
                    filename=filename, sha256=hashlib.sha256(content).hexdigest(), content=content.decode("utf-8")
                )
            )
        session.add(version)
        session.flush()
        for pid, meta in compiled.catalogue.items():
            session.add(self._process_row(session, version.id, pid, meta, compiled.process_hashes[pid]))
        audit.record(
            session,
            "deployed",
            actor=actor,
            version_id=version.id,
            bundle_hash=compiled.bundle_hash,
            processes=sorted(compiled.catalogue),
            files=sorted(bundle.bpmn),
            **(detail or {}),
        )
        return version.id, True

    @staticmethod
    def _process_row(
        session: Session, version_id: int, pid: str, meta: dict[str, Any], content_hash: str
    ) -> ProcessDefinition:
        previous = session.execute(
            select(ProcessDefinition.revision, ProcessDefinition.content_hash)
            .where(ProcessDefinition.process_key == pid)
            .order_by(ProcessDefinition.version_id.desc())
            .limit(1)
        ).first()
        if previous is None:
            revision = 1
        elif previous.content_hash == content_hash:
            revision = previous.revision
        else:
            revision = previous.revision + 1
        start = meta.get("start", {})
        return ProcessDefinition(
            version_id=version_id,
            process_key=pid,
            revision=revision,
            content_hash=content_hash,
            name=meta["name"],
            filename=meta["file"],
            stage=meta.get("stage"),
            mechanism=meta.get("mechanism"),
            platform=meta.get("platform"),
            executable=meta.get("executable", False),
            start_kind=start.get("kind", "none"),
            start_message=start.get("message"),
            schedule_key=start.get("schedule"),
        )

    # ------------------------------------------------------------------ queries
    def latest_version_id(self, session: Session) -> int | None:
        return session.scalar(select(func.max(DefinitionVersion.id)))

    def latest_definition(self, session: Session, process_key: str) -> ProcessDefinition:
        row = session.scalar(
            select(ProcessDefinition)
            .where(ProcessDefinition.process_key == process_key)
            .order_by(ProcessDefinition.version_id.desc())
            .limit(1)
        )
        if row is None:
            raise NotFound(f"no deployed process '{process_key}'", process=process_key)
        return row

    def latest_definitions(self, session: Session) -> list[ProcessDefinition]:
        latest = self.latest_version_id(session)
        if latest is None:
            return []
        return list(
            session.scalars(
                select(ProcessDefinition)
                .where(ProcessDefinition.version_id == latest)
                .order_by(ProcessDefinition.process_key)
            )
        )

    def file_content(self, session: Session, version_id: int, filename: str) -> str:
        content = session.scalar(
            select(DefinitionFile.content).where(
                DefinitionFile.version_id == version_id, DefinitionFile.filename == filename
            )
        )
        if content is None:
            raise NotFound(f"file {filename} not in version {version_id}", file=filename)
        return content

    def stored_bundle(self, session: Session, version_id: int) -> Bundle:
        """A version's bundle rebuilt from what was stored (files, forms, roles, settings): it hashes the same."""
        row = session.execute(
            select(DefinitionVersion.forms, DefinitionVersion.roles, DefinitionVersion.settings).where(
                DefinitionVersion.id == version_id
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"definition version {version_id} not found", version=version_id)
        files = session.execute(
            select(DefinitionFile.filename, DefinitionFile.content).where(DefinitionFile.version_id == version_id)
        ).all()
        return Bundle(
            bpmn={f.filename: f.content.encode("utf-8") for f in files},
            forms=dict(row.forms or {}),
            roles=row.roles or {},
            settings=row.settings or {},
        )

    # ------------------------------------------------------------------ loaded versions
    def loaded(self, version_id: int) -> LoadedVersion:
        hit = self._cache.get(version_id)
        if hit is not None:
            return hit
        with self._lock:
            hit = self._cache.get(version_id)
            if hit is not None:
                return hit
            with self.db.session() as session:
                row = session.get(DefinitionVersion, version_id)
                if row is None:
                    raise NotFound(f"definition version {version_id} not found", version=version_id)
                policy = DeadlinePolicy(row.settings, book=book_source(self.db.engine))
                loaded = LoadedVersion(
                    id=row.id,
                    catalogue=row.catalogue,
                    forms=row.forms,
                    settings=row.settings,
                    roles=RoleCatalogue(row.roles),
                    policy=policy,
                    script_engine=make_script_engine(policy.functions),
                    _spec_dicts=orjson.loads(row.specs),
                )
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[version_id] = loaded
            return loaded

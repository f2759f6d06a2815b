"""The engine assembled: database, definition repository and runtime, built from one Config.

The CLI, the web app, the worker and the benchmarks each build one ``Services`` and share nothing else.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from engine.access.sealing import Sealer
from engine.config import Config
from engine.db import Database
from engine.definitions import load_bundle, operations
from engine.definitions.repository import DefinitionRepository
from engine.runtime.core import Runtime
from engine.storage import AttachmentStore, DirectoryStore, open_store


class Services:
    def __init__(self, config: Config | None = None, *, database_url: str | None = None, db: Database | None = None):
        self.config = config or Config.from_env(**({"database_url": database_url} if database_url else {}))
        self.db = db or Database(self.config.database_url)
        self.definitions = DefinitionRepository(self.db)
        self.runtime = Runtime(self.db, self.definitions, message_ttl=dt.timedelta(days=self.config.message_ttl_days))

    @functools.cached_property
    def sealer(self) -> Sealer:
        """The data key ring (confidential fields, attachments), read once: engine/access/sealing.py."""
        return Sealer.from_config(self.config)

    @property
    def attachments(self) -> AttachmentStore:
        """Where attachment files are kept (engine/storage.py): the configured object store, built once,
        or the directory ``config.attachments_dir`` names now."""
        if self.config.attachment_store:
            return self._object_store
        return DirectoryStore(self.config.attachments_dir)

    @functools.cached_property
    def _object_store(self) -> AttachmentStore:
        return open_store(
            self.config.attachment_store, self.config.attachments_dir, endpoint_url=self.config.s3_endpoint_url
        )

    def deploy_path(
        self, path: str | Path | None = None, *, actor: str | None = None, comment: str | None = None
    ) -> tuple[int, bool]:
        """Deploy a library on disk (``guantong deploy``) through the studio's use case and its checks."""
        bundle = load_bundle(path or self.config.processes_dir)
        deployment = operations.deploy_bundle(self, operations.operator(actor), bundle, comment=comment)
        return deployment.version_id, deployment.created

    def close(self) -> None:
        self.db.dispose()

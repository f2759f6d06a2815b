"""A deployable set of files: BPMN, forms, the role catalogue and the settings, hashed as one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import DeployError


@dataclass
class Bundle:
    bpmn: dict[str, bytes] = field(default_factory=dict)  # filename -> content
    forms: dict[str, Any] = field(default_factory=dict)  # formKey -> JSON Schema (as read: checked at compile)
    roles: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def content_hash(self) -> str:
        canonical = {
            "bpmn": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(self.bpmn.items())},
            "forms": self.forms,
            "roles": self.roles,
            "settings": self.settings,
        }
        blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def with_bpmn(self, filename: str, content: bytes) -> Bundle:
        """A copy with one BPMN file added or replaced (the studio deploys this way)."""
        bpmn = dict(self.bpmn)
        bpmn[filename] = content
        return Bundle(bpmn=bpmn, forms=dict(self.forms), roles=self.roles, settings=self.settings)


def _problem(file: str, reason: str) -> DeployError:
    return DeployError(f"{file}: {reason}", problems=[{"file": file, "element": None, "reason": reason}])


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise _problem(path.name, f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise _problem(path.name, "expected a mapping at the top level")
    return data


def load_bundle(root: str | Path) -> Bundle:
    """Read ``processes/``: ``bpmn/*.bpmn``, ``forms/**/*.json``, ``roles.yaml``, ``settings.yaml``."""
    root = Path(root)
    if root.is_file():
        # A single BPMN file: deploy it with the library's forms, roles and settings beside it.
        library = root.parent.parent if root.parent.name == "bpmn" else root.parent
        bundle = load_bundle(library) if (library / "roles.yaml").exists() else Bundle()
        bundle.bpmn = {root.name: root.read_bytes()}
        return bundle
    bpmn_dir = root / "bpmn" if (root / "bpmn").is_dir() else root
    bundle = Bundle()
    for path in sorted(bpmn_dir.glob("*.bpmn")):
        bundle.bpmn[path.name] = path.read_bytes()
    forms_dir = root / "forms"
    if forms_dir.is_dir():
        for path in sorted(forms_dir.rglob("*.json")):
            key = path.relative_to(forms_dir).with_suffix("").as_posix()
            try:
                bundle.forms[key] = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise _problem(f"forms/{key}.json", f"not valid JSON: {exc}") from exc
    if (root / "roles.yaml").exists():
        bundle.roles = _read_yaml(root / "roles.yaml")
    if (root / "settings.yaml").exists():
        bundle.settings = _read_yaml(root / "settings.yaml")
    return bundle

"""Organisation administration (administrators only): units, links, people, roles, leaders, YAML import.

Every change is an audit event in the same transaction. Anyone else who opens these pages gets a 403
and leaves an ``access_denied`` event.
"""

from __future__ import annotations

import re

import yaml
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import delete, func, select

from engine import audit
from engine.access.passwords import hash_password
from engine.errors import ValidationError
from engine.models import Membership, Unit, UnitLink, User
from engine.organisation.directory import LINK_KINDS, import_organisation
from engine.scheduling.operations import calendar_warning

from . import labels
from .security import deny, principal, services

bp = Blueprint("admin", __name__)

CODE_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,80}$")
MIN_PASSWORD = 10


@bp.before_request
@login_required
def _admins_only():
    if not principal().is_admin:
        deny("admin_only")


def _known_roles(s) -> list[str]:
    catalogue = set(labels.role_codes())
    used = set(s.scalars(select(Membership.role_code).distinct()))
    return sorted(catalogue | used)


def _actor() -> str:
    return current_user.username


# --------------------------------------------------------------------------- overview
@bp.get("/")
def index():
    with services().db.session() as s:
        counts = {
            "units": s.scalar(select(func.count()).select_from(Unit)),
            "users": s.scalar(select(func.count()).select_from(User)),
            "links": s.scalar(select(func.count()).select_from(UnitLink)),
            "memberships": s.scalar(select(func.count()).select_from(Membership)),
        }
    return render_template("admin/index.html", counts=counts, warning=calendar_warning(services(), principal()))


# --------------------------------------------------------------------------- units
def _unit_form_errors(s, form, *, creating: bool) -> dict[str, str]:
    errors = {}
    code = form.get("code", "").strip()
    if creating:
        if not CODE_RE.match(code):
            errors["code"] = _("编码只能包含字母、数字、下划线和连字符（1–64 位）")
        elif s.get(Unit, code) is not None:
            errors["code"] = _("编码已存在")
    if not form.get("name", "").strip():
        errors["name"] = _("此项为必填项")
    if not form.get("kind", "").strip():
        errors["kind"] = _("此项为必填项")
    parent = form.get("parent", "").strip()
    if parent and (s.get(Unit, parent) is None or parent == code):
        errors["parent"] = _("上级单位不存在")
    sort = form.get("sort", "0").strip() or "0"
    if not re.fullmatch(r"-?\d+", sort):
        errors["sort"] = _("请输入整数")
    return errors


@bp.route("/units", methods=["GET", "POST"])
def units():
    errors, values = {}, {}
    with services().db.session() as s:
        if request.method == "POST":
            values = request.form.to_dict()
            errors = _unit_form_errors(s, request.form, creating=True)
            if not errors:
                unit = Unit(
                    code=values["code"].strip(),
                    name=values["name"].strip(),
                    name_en=values.get("name_en", "").strip() or None,
                    kind=values["kind"].strip(),
                    parent_code=values.get("parent", "").strip() or None,
                    sort=int(values.get("sort") or 0),
                    active=True,
                )
                s.add(unit)
                audit.record(s, "unit_created", actor=_actor(), unit=unit.code, name=unit.name)
                flash(_("单位“%(name)s”已创建。", name=unit.name), "success")
                return redirect(url_for("admin.unit", code=unit.code))
        rows = s.scalars(select(Unit).order_by(Unit.sort, Unit.code)).all()
        members = dict(
            s.execute(
                select(Membership.unit_code, func.count(func.distinct(Membership.user_id))).group_by(
                    Membership.unit_code
                )
            ).all()
        )
    status = 422 if errors else 200
    return render_template(
        "admin/units.html", units=rows, members=members, errors=errors, values=values, kinds=labels.UNIT_KINDS
    ), status


@bp.route("/units/<code>", methods=["GET", "POST"])
def unit(code: str):
    errors = {}
    with services().db.session() as s:
        row = s.get(Unit, code)
        if row is None:
            abort(404)
        if request.method == "POST":
            errors = _unit_form_errors(s, request.form, creating=False)
            if not errors:
                row.name = request.form["name"].strip()
                row.name_en = request.form.get("name_en", "").strip() or None
                row.kind = request.form["kind"].strip()
                row.parent_code = request.form.get("parent", "").strip() or None
                row.sort = int(request.form.get("sort") or 0)
                row.active = request.form.get("active") == "1"
                audit.record(s, "unit_updated", actor=_actor(), unit=row.code, name=row.name, active=row.active)
                flash(_("已保存。"), "success")
                return redirect(url_for("admin.unit", code=code))
        all_units = s.scalars(select(Unit).order_by(Unit.sort, Unit.code)).all()
        links_from = s.scalars(
            select(UnitLink).where(UnitLink.from_code == code).order_by(UnitLink.kind, UnitLink.to_code)
        ).all()
        links_to = s.scalars(
            select(UnitLink).where(UnitLink.to_code == code).order_by(UnitLink.kind, UnitLink.from_code)
        ).all()
        members = s.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.unit_code == code)
            .order_by(User.username)
        ).all()
    return render_template(
        "admin/unit.html",
        unit=row,
        all_units=all_units,
        links_from=links_from,
        links_to=links_to,
        members=members,
        errors=errors,
        kinds=labels.UNIT_KINDS,
        link_kinds=labels.LINK_KINDS,
    ), (422 if errors else 200)


@bp.post("/links")
def add_link():
    kind, from_code, to_code = (request.form.get(k, "").strip() for k in ("kind", "from", "to"))
    back = request.form.get("back") or from_code
    with services().db.session() as s:
        if (
            kind not in LINK_KINDS
            or s.get(Unit, from_code) is None
            or s.get(Unit, to_code) is None
            or from_code == to_code
        ):
            flash(_("关联无效：请选择关联类型和两个不同的单位。"), "danger")
            return redirect(url_for("admin.unit", code=back) if s.get(Unit, back) else url_for("admin.units"))
        exists_ = s.scalar(
            select(UnitLink.id).where(
                UnitLink.kind == kind, UnitLink.from_code == from_code, UnitLink.to_code == to_code
            )
        )
        if exists_ is None:
            s.add(UnitLink(kind=kind, from_code=from_code, to_code=to_code))
            audit.record(s, "unit_link_added", actor=_actor(), kind=kind, from_unit=from_code, to_unit=to_code)
            flash(_("关联已添加。"), "success")
        else:
            flash(_("该关联已存在。"), "info")
    return redirect(url_for("admin.unit", code=back))


@bp.post("/links/<int:link_id>/delete")
def delete_link(link_id: int):
    with services().db.session() as s:
        link = s.get(UnitLink, link_id)
        if link is None:
            abort(404)
        back = request.form.get("back") or link.from_code
        audit.record(
            s, "unit_link_removed", actor=_actor(), kind=link.kind, from_unit=link.from_code, to_unit=link.to_code
        )
        s.delete(link)
    flash(_("关联已删除。"), "success")
    return redirect(url_for("admin.unit", code=back))


# --------------------------------------------------------------------------- users
@bp.route("/users", methods=["GET", "POST"])
def users():
    errors, values = {}, {}
    with services().db.session() as s:
        if request.method == "POST":
            values = request.form.to_dict()
            values.pop("password", None)
            username = request.form.get("username", "").strip()
            password = request.form.get("password", "")
            if not USERNAME_RE.match(username):
                errors["username"] = _("用户名只能包含字母、数字、点、下划线和连字符（2–80 位）")
            elif s.scalar(select(User.id).where(User.username == username)) is not None:
                errors["username"] = _("用户名已存在")
            if not request.form.get("display_name", "").strip():
                errors["display_name"] = _("此项为必填项")
            if len(password) < MIN_PASSWORD:
                errors["password"] = _("密码至少 %(n)s 位", n=MIN_PASSWORD)
            if not errors:
                user = User(
                    username=username,
                    display_name=request.form["display_name"].strip(),
                    password_hash=hash_password(password),
                    active=True,
                    is_admin=request.form.get("is_admin") == "1",
                )
                s.add(user)
                s.flush()
                audit.record(s, "user_created", actor=_actor(), username=username, admin=user.is_admin or None)
                flash(_("用户“%(name)s”已创建，请为其分配角色。", name=user.display_name), "success")
                return redirect(url_for("admin.user", user_id=user.id))
        rows = s.scalars(select(User).order_by(User.username)).all()
        memberships = {}
        for m in s.scalars(select(Membership)):
            memberships.setdefault(m.user_id, []).append(m)
    return render_template("admin/users.html", users=rows, memberships=memberships, errors=errors, values=values), (
        422 if errors else 200
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    errors = {}
    with services().db.session() as s:
        row = s.get(User, user_id)
        if row is None:
            abort(404)
        if request.method == "POST":
            name = request.form.get("display_name", "").strip()
            password = request.form.get("password", "")
            if not name:
                errors["display_name"] = _("此项为必填项")
            if password and len(password) < MIN_PASSWORD:
                errors["password"] = _("密码至少 %(n)s 位", n=MIN_PASSWORD)
            active = request.form.get("active") == "1"
            is_admin = request.form.get("is_admin") == "1"
            if row.username == _actor() and (not active or not is_admin):
                errors["active"] = _("不能停用自己的账号或取消自己的管理员权限")
            if not errors:
                row.display_name = name
                row.active = active
                row.is_admin = is_admin
                if request.form.get("locale") in ("zh_CN", "en"):
                    row.locale = request.form["locale"]
                if password:
                    row.password_hash = hash_password(password)
                audit.record(
                    s,
                    "user_updated",
                    actor=_actor(),
                    username=row.username,
                    active=active,
                    admin=is_admin,
                    password_reset=bool(password) or None,
                )
                flash(_("已保存。"), "success")
                return redirect(url_for("admin.user", user_id=user_id))
        memberships = s.scalars(
            select(Membership).where(Membership.user_id == user_id).order_by(Membership.unit_code, Membership.role_code)
        ).all()
        all_units = s.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.sort, Unit.code)).all()
        roles = _known_roles(s)
    return render_template(
        "admin/user.html", user=row, memberships=memberships, all_units=all_units, roles=roles, errors=errors
    ), (422 if errors else 200)


@bp.post("/users/<int:user_id>/memberships")
def add_membership(user_id: int):
    unit_code = request.form.get("unit", "").strip()
    role = request.form.get("role", "").strip()
    with services().db.session() as s:
        if s.get(User, user_id) is None:
            abort(404)
        if s.get(Unit, unit_code) is None or not role or (labels.role_codes() and role not in _known_roles(s)):
            flash(_("请选择有效的单位和角色。"), "danger")
            return redirect(url_for("admin.user", user_id=user_id))
        if (
            s.scalar(
                select(Membership.id).where(
                    Membership.user_id == user_id, Membership.unit_code == unit_code, Membership.role_code == role
                )
            )
            is not None
        ):
            flash(_("该人员已在此单位担任此角色。"), "info")
            return redirect(url_for("admin.user", user_id=user_id))
        s.add(
            Membership(
                user_id=user_id, unit_code=unit_code, role_code=role, is_leader=request.form.get("leader") == "1"
            )
        )
        audit.record(
            s,
            "membership_added",
            actor=_actor(),
            user_id=user_id,
            unit=unit_code,
            role=role,
            leader=request.form.get("leader") == "1" or None,
        )
    flash(_("角色已分配。"), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/memberships/<int:membership_id>/leader")
def toggle_leader(membership_id: int):
    with services().db.session() as s:
        m = s.get(Membership, membership_id)
        if m is None:
            abort(404)
        m.is_leader = not m.is_leader
        audit.record(
            s,
            "membership_updated",
            actor=_actor(),
            user_id=m.user_id,
            unit=m.unit_code,
            role=m.role_code,
            leader=m.is_leader,
        )
        user_id = m.user_id
    flash(_("已保存。"), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/memberships/<int:membership_id>/delete")
def delete_membership(membership_id: int):
    with services().db.session() as s:
        m = s.get(Membership, membership_id)
        if m is None:
            abort(404)
        user_id = m.user_id
        audit.record(s, "membership_removed", actor=_actor(), user_id=m.user_id, unit=m.unit_code, role=m.role_code)
        s.execute(delete(Membership).where(Membership.id == membership_id))
    flash(_("角色已移除。"), "success")
    return redirect(url_for("admin.user", user_id=user_id))


# --------------------------------------------------------------------------- YAML import
@bp.route("/import", methods=["GET", "POST"])
def import_yaml():
    errors: dict[str, str] = {}
    text = ""
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            raw = upload.read(2 * 1024 * 1024 + 1)
            if len(raw) > 2 * 1024 * 1024:
                errors["file"] = _("文件不能超过 2 MB")
            text = raw.decode("utf-8", errors="replace")
        else:
            text = request.form.get("yaml", "")
        data = None
        if not errors:
            try:
                data = yaml.safe_load(text) if text.strip() else None
            except yaml.YAMLError as exc:
                errors["yaml"] = _("YAML 格式错误：%(reason)s", reason=str(exc).splitlines()[0])
            if data is None and not errors:
                errors["yaml"] = _("请上传文件或粘贴 YAML 内容")
            elif data is not None and not isinstance(data, dict):
                errors["yaml"] = _("内容应为包含 units、links、users 的映射")
        if not errors:
            known = set(labels.role_codes()) or None
            try:
                with services().db.session() as s:
                    counts = import_organisation(s, data, known_roles=known)
                    audit.record(s, "organisation_imported", actor=_actor(), **counts)
            except ValidationError as exc:
                errors.update({f"yaml:{k}": v for k, v in exc.fields.items()} or {"yaml": exc.message})
            else:
                flash(_("导入完成：%(units)s 个单位、%(links)s 条关联、%(users)s 名人员。", **counts), "success")
                return redirect(url_for("admin.index"))
    return render_template("admin/import.html", errors=errors, text=text), (422 if errors else 200)

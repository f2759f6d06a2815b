"""Organisation administration pages: units, links, people, roles, leaders, YAML import.

Each view translates a form into one call of engine.organisation.operations and its answer into a page;
the engine checks that the person is the right administrator (三员分立: the system administrator edits
units, links and accounts, the security administrator grants roles and administrator kinds), validates,
writes and audits. Refusals come back as reason codes per field, turned into sentences in the reader's
language here (``_field_errors``). Anyone else who opens these pages gets a 403 and leaves an
``access_denied`` event naming the rule.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from engine.errors import ValidationError
from engine.organisation import operations as org
from engine.scheduling.operations import calendar_warning

from . import labels
from .security import principal, services

bp = Blueprint("admin", __name__)

UPLOAD_LIMIT = 2 * 1024 * 1024

# Reason codes from the engine, as sentences; (field, code) first, then the code alone.
_BY_FIELD = {
    ("code", org.INVALID_FORMAT): _l("编码只能包含字母、数字、下划线和连字符（1–64 位）"),
    ("code", org.TAKEN): _l("编码已存在"),
    ("username", org.INVALID_FORMAT): _l("用户名只能包含字母、数字、点、下划线和连字符（2–80 位）"),
    ("username", org.TAKEN): _l("用户名已存在"),
    ("parent", org.UNKNOWN_UNIT): _l("上级单位不存在"),
    ("yaml", org.EMPTY): _l("请上传文件或粘贴 YAML 内容"),
    ("yaml", org.NOT_MAPPING): _l("内容应为包含 units、links、users 的映射"),
}
_BY_CODE = {
    org.REQUIRED: _l("此项为必填项"),
    org.TOO_LONG: _l("内容过长"),
    org.NOT_INTEGER: _l("请输入整数"),
    org.PARENT_CYCLE: _l("上级单位不能是本单位或其下级单位"),
    org.SELF_LOCKOUT: _l("不能停用自己的账号"),
    org.UNKNOWN_ADMIN_KIND: _l("管理员类型无效"),
    org.HOLDS_ROLES: _l("该人员担任业务角色，不能设为管理员（请先移除其角色）"),
    org.GRANT_NOT_ALLOWED: _l("系统管理员导入的文件不能分配角色或管理员类型（由安全管理员分配）"),
    org.UNKNOWN_LOCALE: _l("不支持的界面语言"),
    org.UNKNOWN_UNIT: _l("单位不存在"),
    org.UNKNOWN_ROLE: _l("角色不在角色目录中"),
}


def _field_errors(exc: ValidationError) -> dict[str, str]:
    errors = {}
    for field, code in exc.fields.items():
        if field == "password":
            errors[field] = labels.password_rule(code, services().config.password_min_length)
        elif code == org.INVALID_YAML:
            errors[field] = _("YAML 格式错误：%(reason)s", reason=exc.details.get("reason", ""))
        else:
            errors[field] = str(_BY_FIELD.get((field, code)) or _BY_CODE.get(code) or code)
    return errors


@bp.before_request
@login_required
def _admins_only():
    """Every page here is for the system and security administrators: refused before any view runs (the
    engine refuses again, each use case for the one administrator it belongs to)."""
    org.require_administrator(principal())


def _checked(name: str) -> bool:
    return request.form.get(name) == "1"


def _form(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


# --------------------------------------------------------------------------- overview
@bp.get("/")
def index():
    return render_template(
        "admin/index.html",
        counts=org.overview(services(), principal()),
        warning=calendar_warning(services(), principal()),
    )


# --------------------------------------------------------------------------- units
@bp.route("/units", methods=["GET", "POST"])
def units():
    errors, values = {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            created = org.create_unit(
                services(), principal(), **_form("code", "name", "name_en", "kind", "parent", "sort")
            )
        except ValidationError as exc:
            errors = _field_errors(exc)
        else:
            flash(_("单位“%(name)s”已创建。", name=created.name), "success")
            return redirect(url_for("admin.unit", code=created.code))
    page = org.list_units(services(), principal())
    return render_template(
        "admin/units.html",
        units=page.units,
        members=page.members,
        errors=errors,
        values=values,
        kinds=labels.UNIT_KINDS,
    ), (422 if errors else 200)


@bp.route("/units/<code>", methods=["GET", "POST"])
def unit(code: str):
    errors = {}
    if request.method == "POST":
        try:
            org.update_unit(
                services(),
                principal(),
                code,
                **_form("name", "name_en", "kind", "parent", "sort"),
                active=_checked("active"),
            )
        except ValidationError as exc:
            errors = _field_errors(exc)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("admin.unit", code=code))
    detail = org.unit_detail(services(), principal(), code)
    return render_template(
        "admin/unit.html",
        unit=detail.unit,
        all_units=detail.all_units,
        links_from=detail.links_from,
        links_to=detail.links_to,
        members=detail.members,
        errors=errors,
        kinds=labels.UNIT_KINDS,
        link_kinds=labels.LINK_KINDS,
    ), (422 if errors else 200)


@bp.post("/links")
def add_link():
    form = _form("kind", "from", "to")
    back = request.form.get("back") or form["from"]
    try:
        added = org.add_link(services(), principal(), kind=form["kind"], from_code=form["from"], to_code=form["to"])
    except ValidationError:
        flash(_("关联无效：请选择关联类型和两个不同的单位。"), "danger")
        known = back in {u.code for u in org.list_units(services(), principal()).units}
        return redirect(url_for("admin.unit", code=back) if known else url_for("admin.units"))
    if added:
        flash(_("关联已添加。"), "success")
    else:
        flash(_("该关联已存在。"), "info")
    return redirect(url_for("admin.unit", code=back))


@bp.post("/links/<int:link_id>/delete")
def delete_link(link_id: int):
    removed = org.remove_link(services(), principal(), link_id)
    flash(_("关联已删除。"), "success")
    return redirect(url_for("admin.unit", code=request.form.get("back") or removed.from_code))


# --------------------------------------------------------------------------- users
@bp.route("/users", methods=["GET", "POST"])
def users():
    errors, values = {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        values.pop("password", None)
        try:
            created = org.create_user(services(), principal(), **_form("username", "display_name", "password"))
        except ValidationError as exc:
            errors = _field_errors(exc)
        else:
            flash(_("用户“%(name)s”已创建，请安全管理员为其分配角色。", name=created.display_name), "success")
            return redirect(url_for("admin.user", user_id=created.id))
    rows = org.list_users(services(), principal())
    return render_template("admin/users.html", users=rows, errors=errors, values=values), (422 if errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    errors = {}
    if request.method == "POST":
        try:
            org.update_user(
                services(),
                principal(),
                user_id,
                display_name=request.form.get("display_name", ""),
                password=request.form.get("password") or None,
                locale=request.form.get("locale") or None,
                active=_checked("active"),
            )
        except ValidationError as exc:
            errors = _field_errors(exc)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    detail = org.user_detail(services(), principal(), user_id)
    return render_template(
        "admin/user.html",
        user=detail.user,
        memberships=detail.memberships,
        all_units=detail.active_units,
        roles=detail.roles,
        reveal_roles=org.reveal_roles(services()),
        may_grant=detail.may_grant,
        admin_kinds=labels.ADMIN_KINDS,
        errors=errors,
    ), (422 if errors else 200)


@bp.post("/users/<int:user_id>/admin-kind")
def set_admin_kind(user_id: int):
    try:
        org.set_admin_kind(services(), principal(), user_id, admin_kind=request.form.get("admin_kind") or None)
    except ValidationError as exc:
        flash(" ".join(_field_errors(exc).values()), "danger")
    else:
        flash(_("已保存。"), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/memberships")
def add_membership(user_id: int):
    try:
        done = org.add_membership(services(), principal(), user_id, **_form("unit", "role"), leader=_checked("leader"))
    except ValidationError:
        flash(_("请选择有效的单位和角色。"), "danger")
    else:
        if done == org.ADDED:
            flash(_("角色已分配。"), "success")
        elif done == org.PENDING:
            flash(_("该角色可查看检举人身份信息：已提交审批，经另一名有权人员批准后生效。"), "warning")
        else:
            flash(_("该人员已在此单位担任此角色。"), "info")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/memberships/<int:membership_id>/leader")
def toggle_leader(membership_id: int):
    changed = org.toggle_leader(services(), principal(), membership_id)
    flash(_("已保存。"), "success")
    return redirect(url_for("admin.user", user_id=changed.user_id))


@bp.post("/memberships/<int:membership_id>/delete")
def delete_membership(membership_id: int):
    removed = org.remove_membership(services(), principal(), membership_id)
    flash(_("角色已移除。"), "success")
    return redirect(url_for("admin.user", user_id=removed.user_id))


# --------------------------------------------------------------------------- YAML import
@bp.route("/import", methods=["GET", "POST"])
def import_yaml():
    errors: dict[str, str] = {}
    text = ""
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            raw = upload.read(UPLOAD_LIMIT + 1)
            if len(raw) > UPLOAD_LIMIT:
                errors["file"] = _("文件不能超过 2 MB")
            text = raw.decode("utf-8", errors="replace")
        else:
            text = request.form.get("yaml", "")
        if not errors:
            try:
                counts = org.import_organisation(services(), principal(), text)
            except ValidationError as exc:
                found = _field_errors(exc)
                errors = {(k if k == "yaml" else f"yaml:{k}"): v for k, v in found.items()} or {"yaml": exc.message}
            else:
                flash(_("导入完成：%(units)s 个单位、%(links)s 条关联、%(users)s 名人员。", **counts), "success")
                return redirect(url_for("admin.index"))
    return render_template("admin/import.html", errors=errors, text=text), (422 if errors else 200)

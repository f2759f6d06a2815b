"""Every failure under /api is the JSON envelope; the web pages keep their HTML."""

from __future__ import annotations

from .conftest import error_of


def test_unknown_paths_and_methods_are_json(api_as, app):
    cm1 = api_as("cm1")
    resp = cm1.get("/no/such/thing")
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"
    resp = cm1.delete("/definitions")
    assert resp.status_code == 405 and error_of(resp)["code"] == "method_not_allowed"
    assert "GET" in error_of(resp)["details"]["allowed"]
    resp = app.test_client().get("/api/v1/tasks/0")  # below the id range: no such route
    assert resp.status_code == 404 and resp.is_json
    resp = app.test_client().get("/api/v1/instances/99999999999")  # past int32: no such route, no DB error
    assert resp.status_code == 404 and resp.is_json
    web = app.test_client().get("/no/such/page")
    assert web.status_code == 404 and web.mimetype == "text/html"


def test_engine_errors_keep_their_code_and_details(api_as, clue):
    clue.start()
    clue.register()
    task_id = clue.task(clue.cm1, "提出处置意见")
    so1 = api_as("so1")
    resp = so1.post(f"/tasks/{task_id}/complete", json={"data": {"disposal": "nonsense"}})
    err = error_of(resp)
    assert resp.status_code == 422 and err["code"] == "validation_failed"
    assert err["details"]["fields"] == {"disposal": "请从给出的选项中选择"} and err["details"]["task"] == task_id


def test_openapi_document_is_served_and_generated(app):
    resp = app.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "a token from POST /api/v1/auth/token",
    }
    assert doc["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert doc["paths"]["/api/v1/auth/password"]["post"]["security"] == []
    assert set(doc["paths"]) == {
        "/api/v1/auth/token",
        "/api/v1/auth/password",
        "/api/v1/me",
        "/api/v1/definitions",
        "/api/v1/definitions/{key}/instances",
        "/api/v1/instances",
        "/api/v1/instances/{instance_id}",
        "/api/v1/instances/{instance_id}/interference",
        "/api/v1/interference",
        "/api/v1/interference/{entry_id}",
        "/api/v1/interference/{entry_id}/follow-ups",
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}",
        "/api/v1/tasks/{task_id}/claim",
        "/api/v1/tasks/{task_id}/unclaim",
        "/api/v1/tasks/{task_id}/complete",
        "/api/v1/messages/{name}",
        "/api/v1/instances/{instance_id}/recusal",
        "/api/v1/recusal/{conflict_id}/decision",
        # issue 16: the live diagram, the overseers' operations with a reason
        "/api/v1/instances/{instance_id}/diagram",
        "/api/v1/instances/{instance_id}/{action}",
        "/api/v1/instances/{instance_id}/tasks/{task_id}/reassign",
        "/api/v1/metrics",  # the metrics page's figures as JSON
        # issue 15: the case's documents, the officers' actions, 待阅, 批量移交, saved phrases
        "/api/v1/instances/{instance_id}/documents",
        "/api/v1/instances/{instance_id}/documents/{kind}/pdf",
        "/api/v1/instances/{instance_id}/documents/{kind}/docx",
        "/api/v1/tasks/{task_id}/actions",
        "/api/v1/tasks/{task_id}/return",
        "/api/v1/tasks/{task_id}/withdraw",
        "/api/v1/tasks/{task_id}/urge",
        "/api/v1/tasks/{task_id}/transfer",
        "/api/v1/tasks/{task_id}/delegate",
        "/api/v1/tasks/{task_id}/give-back",
        "/api/v1/tasks/{task_id}/copies",
        "/api/v1/copies",
        "/api/v1/copies/{copy_id}/read",
        "/api/v1/handovers",
        "/api/v1/phrases",
        "/api/v1/phrases/{phrase_id}",
        "/api/v1/tasks/{task_id}/consultations",
        "/api/v1/opinions",
        "/api/v1/opinions/{consultation_id}/answer",
    }
    complete = doc["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(complete["responses"])
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]

"""The interactive API page in chromium: drawn by the vendored Swagger UI under Alur's CSP, usable with a token."""
from __future__ import annotations

import pytest

from workflow_engine.tokens import SCOPES


@pytest.fixture(scope="module")
def reader_token(live_server):
    _, secret = live_server.engine.create_token("docs-reader", ["cases:read"], acts_as="fo")
    return secret


def test_the_api_page_draws_every_operation_without_csp_errors(tab):
    tab.goto("/api/v1/docs")
    tab.page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    operations = tab.page.locator(".swagger-ui .opblock").count()
    assert operations == 8  # six token operations, the document and this page
    assert tab.page.locator(".swagger-ui .info .title").inner_text().startswith("Alur API")
    assert tab.page.locator(".swagger-ui .btn.authorize").count() == 1
    assert tab.page.locator(".swagger-ui img[src*='validator']").count() == 0
    tab.screenshot("api-docs")
    tab.assert_clean()  # no console error (a CSP violation is one), nothing fetched from elsewhere


def test_try_it_out_with_a_token(tab, reader_token):
    page = tab.page
    tab.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    page.click(".swagger-ui .btn.authorize")
    page.fill(".swagger-ui .modal-ux input[type=text], .swagger-ui .modal-ux input[type=password]", reader_token)
    page.click(".swagger-ui .modal-ux button.authorize")
    page.click(".swagger-ui .modal-ux button.btn-done")
    page.click("#operations-SOPs-listProcesses .opblock-summary")
    page.click("#operations-SOPs-listProcesses .try-out__btn")
    page.click("#operations-SOPs-listProcesses .execute")
    status = page.locator("#operations-SOPs-listProcesses .live-responses-table tr.response .response-col_status").first
    status.wait_for(timeout=10_000)
    assert status.inner_text().strip() == "200"
    assert "linear3" in page.locator("#operations-SOPs-listProcesses .live-responses-table").inner_text()
    tab.assert_clean()


def test_without_a_token_the_page_shows_the_401(tab):
    page = tab.page
    tab.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    page.click("#operations-Cases-listCases .opblock-summary")
    page.click("#operations-Cases-listCases .try-out__btn")
    page.click("#operations-Cases-listCases .execute")
    status = page.locator("#operations-Cases-listCases .live-responses-table tr.response .response-col_status").first
    status.wait_for(timeout=10_000)
    assert status.inner_text().strip().startswith("401")
    # The browser reports the failed request as a console error; that is the page working, not a fault.
    tab.problems[:] = [p for p in tab.problems if "401" not in p]
    tab.assert_clean()


def test_scopes_are_listed_in_the_document(tab):
    tab.goto("/api/v1/openapi.json")
    text = tab.page.inner_text("body")
    assert all(scope in text for scope in SCOPES)

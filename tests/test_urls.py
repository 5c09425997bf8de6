"""The project's URLs that are no app's own (project/urls.py)."""


def test_favicon_ico_redirects_to_the_sites_icon_so_no_page_logs_a_404(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/uploads/favicon.svg"

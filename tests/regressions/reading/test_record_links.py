"""The record page's "Online copy" button links to whatever URL the import carried."""
from tests.support.factories import add_record


def test_a_javascript_url_from_an_import_is_not_rendered_as_a_link(client):
    # templates/reading/_record_panel.html:36 href="{{ record.url }}" (autoescape does not
    # check the scheme; catalog/importer.py keeps any string). Today only the CSP
    # (script-src 'self') stops the click from running script; OpenURL (rft_id) and COinS
    # repeat the value too.
    record = add_record("rlr-url-1", ["NCU"], title="Dangerous link",
                        url="javascript:fetch('/account').then(r=>r.text()).then(alert)")
    html = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert 'href="javascript:' not in html

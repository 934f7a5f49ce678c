"""Uploaded file names are kept as sent (RFC 2231 ``filename*`` may carry CR, LF or NUL)."""
from sqlalchemy import select

from jala.extensions import db
from jala.reference.models import Question, QuestionMessage
from tests.support.factories import make_user
from tests.support.files import PDF
from tests.support.web import as_user, csrf_token


def raw_ask(client, encoded_filename):
    token = csrf_token(client, "/reference/ask")
    boundary = "rlrboundary"
    parts = []
    for name, value in (("csrf_token", token), ("subject", "file name"), ("body", "see file")):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; "
                 f"filename*=UTF-8''{encoded_filename}\r\nContent-Type: application/pdf\r\n\r\n"
                 .encode() + PDF + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return client.post("/reference/ask", data=b"".join(parts),
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_an_attachment_whose_name_has_a_line_break_can_still_be_downloaded(client):
    # the name is stored without its line break, so the download header can carry it
    reader = make_user(library="JXUFE")
    as_user(client, reader)
    response = raw_ask(client, "thesis%0D%0AX-Injected%3A%201.pdf")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    question = db.session.execute(
        select(Question).where(Question.asker_id == reader.id)).scalar_one()
    message = db.session.execute(select(QuestionMessage).where(
        QuestionMessage.question_id == question.id)).scalar_one()
    assert message.attachment.original_name == "thesisX-Injected: 1.pdf"
    redirect = client.get(f"/reference/questions/{question.id}/attachments/{message.id}")
    assert redirect.status_code == 302
    download = client.get(redirect.headers["Location"])
    assert download.status_code == 200
    assert "X-Injected" not in download.headers



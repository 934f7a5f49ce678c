"""At 360 px: a library admin makes a SUSHI key, copies it once, and revokes it."""
import pytest

from jala.accounts.models import ROLE_LIBRARY_ADMIN
from jala.extensions import db
from tests.support.browser import fits_the_phone, log_in, new_phone, screenshot, serving
from tests.support.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

EMAIL = "e2e-counter-admin@example.edu.cn"


@pytest.fixture
def admin(private_app):
    """Committed on a database of its own: a library admin of JXUFE."""
    with private_app.app_context():
        user = make_user(library="JXUFE", roles=(ROLE_LIBRARY_ADMIN,), email=EMAIL)
        secret = user.totp_secret
        db.session.commit()
    return secret


def test_a_library_admin_makes_and_revokes_a_sushi_key_on_a_phone(private_app, admin, browser):
    page = new_phone(browser)
    with serving(private_app) as base:
        log_in(page, base, EMAIL, admin)
        page.goto(base + "/libraries/JXUFE/sushi")
        assert "还没有使用统计工具持有密钥" in page.inner_text("main")
        fits_the_phone(page)
        page.fill("input[name=label]", "Celus 统计平台")
        page.click("form[action='/libraries/JXUFE/sushi'] button[type=submit]")
        secret = page.inner_text("code.counter-secret")
        assert len(secret) >= 40 and "只显示这一次" in page.inner_text("main")
        fits_the_phone(page)
        screenshot(page, "counter-sushi-key-made")
        box = page.locator("button.danger").first.bounding_box()
        assert box["height"] >= 44
        page.goto(base + "/libraries/JXUFE/sushi")
        assert secret not in page.content()
        page.click("button.danger")
        page.wait_for_load_state()
        assert "还没有使用统计工具持有密钥" in page.inner_text("main")
        screenshot(page, "counter-sushi-keys")
    page.context.close()

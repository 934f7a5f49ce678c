"""``jala sip2``: each member library's SIP2 server for live availability, from the command line."""
import click
from flask.cli import AppGroup

from jala.command_steps import run_step
from jala.protocols.models import ENCODINGS
from jala.protocols.sip2_config import endpoint_for, remove_endpoint, set_endpoint


@click.group("sip2", cls=AppGroup)
def sip2():
    """Live availability: each member library's SIP2 server."""


def _line(library, endpoint):
    login = f"login {endpoint.login_user} (password stored)" if endpoint.login_user \
        else "no login"
    return (f"{library.code:<8} {endpoint.host}:{endpoint.port} AO={endpoint.institution_id!r} "
            f"{login} location={endpoint.location_code or '-'} {endpoint.encoding}")



@sip2.command("set")
@click.argument("code")
@click.option("--host", required=True, help="Host name or IP address of the SIP2 server.")
@click.option("--port", required=True, type=click.IntRange(1, 65535))
@click.option("--institution-id", default="", help="AO: the institution id the server expects.")
@click.option("--user", "login_user", help="CN: the login user (93); omit for no login.")
@click.option("--password", "password", help="CO: the login password (stored encrypted).")
@click.option("--password-prompt", is_flag=True, help="Ask for the password (not in history).")
@click.option("--location", "location_code", help="CP: the location code of the login.")
@click.option("--encoding", type=click.Choice(ENCODINGS), default="utf-8", show_default=True)
def sip2_set(code, host, port, institution_id, login_user, password, password_prompt,
             location_code, encoding):
    """Give library CODE its SIP2 server (replacing any it had); takes effect at once."""
    if password_prompt:
        password = click.prompt("Password", hide_input=True)
    endpoint = run_step(lambda: set_endpoint(
        None, code, host=host, port=port, institution_id=institution_id,
        login_user=login_user, password=password, location_code=location_code,
        encoding=encoding))
    click.echo(_line(endpoint.library, endpoint))


@sip2.command("show")
@click.argument("code")
def sip2_show(code):
    """Show library CODE's SIP2 server (never the password)."""
    library, endpoint = run_step(lambda: endpoint_for(None, code))
    click.echo(_line(library, endpoint) if endpoint else f"{library.code:<8} no SIP2 server")


@sip2.command("remove")
@click.argument("code")
def sip2_remove(code):
    """Stop asking library CODE's SIP2 server."""
    run_step(lambda: remove_endpoint(None, code))
    click.echo(f"{code.upper()}: the imported statuses are shown again")

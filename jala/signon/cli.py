"""``jala idp``: each member library's identity provider, from the command line."""
import click
from flask.cli import AppGroup


@click.group("idp", cls=AppGroup)
def idp():
    """Campus sign-on: each member library's identity provider."""


@idp.command("add")
@click.argument("code")
@click.option("--oidc", "oidc_issuer", metavar="ISSUER_URL", help="OpenID Connect issuer.")
@click.option("--cas", "cas_url", metavar="CAS_SERVER_URL", help="CAS server (…/cas).")
@click.option("--saml", "saml_source", metavar="METADATA_URL_OR_FILE",
              help="SAML IdP metadata (CARSI: the IdP's own metadata).")
@click.option("--client-id", help="OIDC: the client id the portal was registered with.")
@click.option("--client-secret", help="OIDC: the client secret (stored encrypted).")
@click.option("--client-secret-env", metavar="VARIABLE",
              help="OIDC: read the client secret from this environment variable instead.")
@click.option("--trust-provider-mfa/--portal-mfa", default=None,
              help="Staff: accept the provider's second factor instead of the portal's.")
def idp_add(code, oidc_issuer, cas_url, saml_source, client_id, client_secret,
            client_secret_env, trust_provider_mfa):
    """Give library CODE its provider (replacing any it had); takes effect at once."""
    from jala.errors import RuleViolation
    from jala.extensions import db as database
    from jala.signon import saml
    from jala.signon.providers import set_provider

    kinds = [kind for kind, given in (("oidc", oidc_issuer), ("cas", cas_url),
                                      ("saml", saml_source)) if given]
    if len(kinds) != 1:
        raise click.UsageError("give exactly one of --oidc, --cas, --saml")
    kind = kinds[0]
    try:
        if kind == "saml":
            metadata = saml.fetch_metadata(saml_source)
            url = saml_source if saml_source.startswith(("http://", "https://")) else None
            provider = set_provider(None, code, "saml", url=url, saml_metadata=metadata,
                                    trust_provider_mfa=trust_provider_mfa)
        else:
            provider = set_provider(None, code, kind, url=oidc_issuer or cas_url,
                                    client_id=client_id, client_secret=client_secret,
                                    client_secret_env=client_secret_env,
                                    trust_provider_mfa=trust_provider_mfa)
        database.session.commit()
    except RuleViolation as exc:
        database.session.rollback()
        raise click.ClickException(exc.message) from exc
    click.echo(_idp_line(provider))


def _idp_line(provider):
    where = provider.saml_entity_id if provider.kind == "saml" else provider.url
    mfa = "provider-mfa" if provider.trust_provider_mfa else "portal-mfa"
    return f"{provider.library.code:<8} {provider.kind:<5} {where} ({mfa})"


@idp.command("list")
def idp_list():
    """Every library's provider: code, kind, issuer or CAS URL (never a secret)."""
    from sqlalchemy import select

    from jala.accounts.models import Library
    from jala.extensions import db as database
    from jala.signon.models import IdentityProvider

    rows = database.session.execute(
        select(IdentityProvider).join(Library).order_by(Library.code)).scalars().all()
    for provider in rows:
        click.echo(_idp_line(provider))
    if not rows:
        click.echo("no library has campus sign-on yet")


@idp.command("refresh")
@click.argument("codes", nargs=-1)
def idp_refresh(codes):
    """Fetch SAML metadata again from its address (every SAML library, or CODES)."""
    from sqlalchemy import select

    from jala.accounts.models import Library
    from jala.errors import RuleViolation
    from jala.extensions import db as database
    from jala.signon.models import IdentityProvider
    from jala.signon.providers import refresh_saml_metadata

    if not codes:
        codes = database.session.execute(
            select(Library.code).join(IdentityProvider, IdentityProvider.library_id == Library.id)
            .where(IdentityProvider.kind == "saml", IdentityProvider.url.is_not(None))
        ).scalars().all()
    failed = 0
    for code in codes:
        try:
            click.echo(_idp_line(refresh_saml_metadata(None, code)))
            database.session.commit()
        except RuleViolation as exc:
            database.session.rollback()
            failed += 1
            click.echo(f"{code.upper()}: {exc.message}", err=True)
    if failed:
        raise SystemExit(1)


@idp.command("remove")
@click.argument("code")
def idp_remove(code):
    """Stop library CODE's campus sign-on (its readers' accounts stay)."""
    from jala.errors import RuleViolation
    from jala.extensions import db as database
    from jala.signon.providers import remove_provider

    try:
        remove_provider(None, code)
        database.session.commit()
    except RuleViolation as exc:
        database.session.rollback()
        raise click.ClickException(exc.message) from exc
    click.echo(f"{code.upper()}: campus sign-on removed")

#!/usr/bin/env bash
# Refresh the UI translations: extract msgids from jala/ and templates/ (see babel.cfg),
# merge them into every catalogue under jala/translations, then compile the .mo files.
# Run from the repository root: scripts/update-translations.sh
# After it, translate the new (empty) entries in jala/translations/zh_Hans/LC_MESSAGES/messages.po
# and run it again so the compiled messages.mo is up to date.
set -euo pipefail

cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
POT=jala/translations/messages.pot

"$PYBABEL" extract -F babel.cfg --no-default-keywords \
    -k _ -k _l -k gettext -k lazy_gettext -k ngettext:1,2 \
    --project "JALA Portal" --version 0.1.0 --copyright-holder "Jiangxi Academic Library Alliance" \
    -o "$POT" .

if [ ! -f jala/translations/zh_Hans/LC_MESSAGES/messages.po ]; then
    "$PYBABEL" init -i "$POT" -d jala/translations -l zh_Hans
fi
"$PYBABEL" update --no-fuzzy-matching -d jala/translations -i "$POT"
"$PYBABEL" compile -d jala/translations --statistics

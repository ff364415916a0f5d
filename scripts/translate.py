"""Fill French translations into the catalog from a small {English: French} JSON file.

A plural entry is keyed by its English singular and gives the French forms as a list:
``{"%(num)d project found.": ["%(num)d projet trouvé.", "%(num)d projets trouvés."]}``.

Usage: .venv/bin/python scripts/translate.py new-strings.json
(used after `make update-messages` to add the French of new strings without hand-editing the .po)
"""

import json
import sys

from babel.messages.pofile import read_po, write_po

PO = "codev/translations/fr/LC_MESSAGES/messages.po"

with open(sys.argv[1], encoding="utf-8") as handle:
    french = json.load(handle)
with open(PO, "rb") as handle:
    catalog = read_po(handle, locale="fr")
for message in catalog:
    key = message.id[0] if isinstance(message.id, tuple) else message.id
    if key in french:
        value = french[key]
        if isinstance(message.id, tuple) != isinstance(value, list):
            sys.exit(f"{key!r}: a plural message takes a list of forms, a single one a string")
        message.string = tuple(value) if isinstance(value, list) else value
        message.flags.discard("fuzzy")
with open(PO, "wb") as handle:
    write_po(handle, catalog, width=100, sort_output=True, omit_header=False)
missing = [m.id for m in catalog
           if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
print(f"{len(missing)} untranslated" + (f": {missing[:10]}" if missing else ""))

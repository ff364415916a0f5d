"""Shared mechanisms every step of the programme uses: access, audit, mail, files, money, i18n."""

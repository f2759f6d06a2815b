"""The organisation: units, their links, people and their roles, imported from YAML or edited by administrators."""

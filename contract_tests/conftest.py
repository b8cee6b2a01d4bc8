"""The contract suite's pytest plugin lives in ``_plugin``; this file hands it to pytest for the
tests of this folder (``rotor-contract`` runs them, as does ``pytest contract_tests`` in a clone).

Named, not imported: pytest loads a plugin once by its name, so that ``-p
rotor_leads.contract_tests._plugin`` given as well does not register its options twice.
"""

pytest_plugins = ["rotor_leads.contract_tests._plugin"]

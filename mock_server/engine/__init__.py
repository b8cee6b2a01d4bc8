"""The mock's engine, below the web layer: the configuration, the API keys, the data sets, the
runtime of one process, the lead store (``store``) and the state the workers share
(``state``). It imports ``rotor_leads.spec`` and nothing of the web layer."""

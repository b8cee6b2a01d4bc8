from rotor_leads.mock_server._cli import main

main()

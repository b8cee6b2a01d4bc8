from rotor_leads.mock_server import main

main()

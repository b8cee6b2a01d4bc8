from mock_server._cli import main

main()

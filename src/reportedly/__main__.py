from reportedly.interfaces.cli import main

main()

from widgets.cli import main

main()

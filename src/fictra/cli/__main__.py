from fictra.cli import main

main()

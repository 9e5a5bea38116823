from volseg.cli.main import main

main()

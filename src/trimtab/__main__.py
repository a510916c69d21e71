"""``python -m trimtab`` runs the command line."""

from trimtab.cli.main import main

if __name__ == "__main__":
    main()

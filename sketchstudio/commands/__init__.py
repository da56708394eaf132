"""Sub-commands of `sketchstudio`: one module each, `add_parser(subparsers)` and `run(args)`."""

"""The command line: NASLib-style configs, the search and pretrain commands, result files."""

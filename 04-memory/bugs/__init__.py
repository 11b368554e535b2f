"""Stage 04's memory bugs, on purpose: _bugs_capi.c holds them, _demos.py
runs each in a child process under its checker (run.py's last part)."""

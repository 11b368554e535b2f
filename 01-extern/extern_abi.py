"""Stage 01, road 2, cffi ABI mode: libextern.so loaded at run time.

Nothing is compiled for this module: cffi reads the declarations, dlopens
the shared object and calls into it through libffi.  The same public
functions as extern_capi: add, call_n_times, call_on_thread, set_trace.
"""
import os

import cffi

from _road2 import (CDEF, Road, check, check_onerror, make_step,
                    step_onerror)

# Built products live beside this file, or in the sub-folder $FFI_BUILD
# (the sanitizer build); os.path.join keeps an absolute $FFI_BUILD as is.
HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = os.path.join(HERE, os.environ.get("FFI_BUILD", ""), "libextern.so")

# [excerpt: dlopen]
ffi = cffi.FFI()
ffi.cdef(CDEF)
# The loader maps the shared object into this process now, at run time.
# If the declarations above disagree with the library, nothing checks it:
# ABI mode trusts the cdef.
lib = ffi.dlopen(LIBRARY)

# ffi.callback writes a small piece of machine code at run time, for this
# one Python function.  Made once here and kept alive by this global: C
# must never call it after it is garbage collected.
c_step = ffi.callback("int(void *, int)", make_step(ffi), error=1,
                      onerror=step_onerror)
# [/excerpt: dlopen]

# The check C calls while call_on_thread() waits: see _road2.check.
c_check = ffi.callback("int(void *)", check, error=1, onerror=check_onerror)

Road(ffi, lib, c_step, c_check).export(globals())

"""Child process of the hostile-input sweep (tests/test_gate_hostile.py).

    python3 hostile_child.py STAGE MODULE START SKIP PROTOCOL_FILE

Makes the calls of api.Sweep(MODULE) from number START on (a call that
returns with a lying int among its arguments is asked again with the
int's true value: api.lie_accepted).  Before each
call it appends "CALL <n> <description>" to PROTOCOL_FILE, after it
"DONE <n>" (with the problem, if the call raised an unclear exception or
hung), and "END <count>" at the very end.  A crash therefore leaves a CALL
line with no DONE: the parent names that call and starts a new child at
the next one.  That child first makes the earlier calls again, silently,
except the ones in SKIP (comma-separated numbers: the calls that crashed or
hung), so that the objects the sweep collected are the same.  The protocol file is written with os.write, unbuffered, so
nothing is lost when the process dies.
"""
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api  # noqa: E402

CALL_SECONDS = int(os.environ.get("GATE_CALL_SECONDS", "20"))


class Hang(BaseException):
    pass


def on_alarm(signum, frame):
    raise Hang()


def main():
    stage, name, start, skip, protocol = sys.argv[1:6]
    start = int(start)
    skip = {int(n) for n in skip.split(",") if n}
    fd = os.open(protocol, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def say(line):
        os.write(fd, (line.replace("\n", "\\n") + "\n").encode(
            "utf-8", "backslashreplace"))

    module = api.import_public(stage, name)
    sweep = api.Sweep(module, small=bool(os.environ.get("FFI_SMALL")))
    signal.signal(signal.SIGALRM, on_alarm)
    count = 0
    for number, (desc, func, args) in enumerate(sweep.entries()):
        count = number + 1
        if number < start:
            if number not in skip:          # replay, silently
                signal.alarm(CALL_SECONDS)
                try:
                    sweep.record(func(*args))
                except BaseException:       # noqa: B902 - judged before
                    pass
                finally:
                    signal.alarm(0)
            continue
        say("CALL %d %s" % (number, desc))
        problem = None
        signal.alarm(CALL_SECONDS)
        try:
            sweep.record(func(*args))
            # The call went through: if it had a lying int, the true value
            # must go through too.
            problem = api.lie_accepted(func, args)
        except Hang:
            problem = "did not return within %d s" % CALL_SECONDS
        except BaseException as exc:   # noqa: B902 - judged, not hidden
            problem = api.describe_exception(exc)
        finally:
            signal.alarm(0)
        say("DONE %d%s" % (number, " PROBLEM " + problem if problem else ""))
    say("END %d" % count)
    os.close(fd)
    # A normal exit: a crash while the interpreter finalises what the sweep
    # left behind is reported too ("after the last call").


if __name__ == "__main__":
    main()

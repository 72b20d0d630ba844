# Probe of ipykernel 7.4.0 (IPython 9.18.1, jupyter_client 8.10), the kernel
# behind Jupyter Server 2.21.1: kernel_info_reply, header versions, tracebacks
# (with frames, context, a SyntaxError, input() without stdin and
# interrupted), and execute_result's count with store_history false.
# Run with the venv scripts/jupyter2-env.sh makes:
#   $(scripts/jupyter2-env.sh)/bin/python docs/wire/kernel-channels-probe2.py
import json
import time

from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="python3")
try:
    kc.kernel_info()
    r = kc.get_shell_msg(timeout=30)
    print("KERNEL_INFO", json.dumps(r["content"]))
    print("HEADER_VERSION", r["header"]["version"])

    def collect(mid):
        out = []
        while True:
            m = kc.get_iopub_msg(timeout=30)
            if m["parent_header"].get("msg_id") != mid:
                continue
            out.append((m["msg_type"], m["content"]))
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                return out

    for code in ["def g(a, *rest):\n    raise ValueError('deep')\n\ndef f():\n    return g(1)\nf()",
                 "print(1)\nundefined_name", "1 +", "y = [1, 'a', None, True]  # c\nlen(y)\nzz", "int('x')",
                 "\n".join("print(%d)" % i for i in range(1, 12)) + "\nraise RuntimeError(\"r\")\n1"]:
        for t, c in collect(kc.execute(code)):
            if t == "error":
                print("CODE", json.dumps(code))
                print("TB", json.dumps(c))
    print("NOHIST", json.dumps(collect(kc.execute("1+1", store_history=False))))
    for t, c in collect(kc.execute('input("p")', allow_stdin=False)):
        if t == "error":
            print("NOSTDIN", json.dumps(c))
    mid = kc.execute('input("p")', allow_stdin=True)
    kc.get_stdin_msg(timeout=30)
    time.sleep(2)  # into the wait for the reply, past sending the request
    km.interrupt_kernel()
    for t, c in collect(mid):
        if t == "error":
            print("INTR", json.dumps(c))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)

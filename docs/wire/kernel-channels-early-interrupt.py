# Probe of an interrupt that reaches ipykernel after it published a cell's
# execute_input but before IPython runs the cell's code: here the window is
# widened by an input transformer that sleeps 2 s, as a loaded machine
# widens it by not scheduling the kernel. Prints each message of the cell
# (type, execution_state or status, ename) for 10 s after the interrupt.
# Run with the python of either server's environment:
#   $(scripts/jupyter2-env.sh)/bin/python docs/wire/kernel-channels-early-interrupt.py   # 2.21.1's ipykernel 7.4.0
#   /usr/bin/python3 docs/wire/kernel-channels-early-interrupt.py                         # Debian's ipykernel 6.17
import queue

from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name="python3")
try:
    slow = "import time\nget_ipython().input_transformers_post.append(lambda lines: (time.sleep(2), lines)[1])"
    kc.execute_interactive(slow, timeout=30)
    mid = kc.execute("import time\ntime.sleep(30)")
    while True:
        m = kc.get_iopub_msg(timeout=30)
        if m["parent_header"].get("msg_id") == mid and m["msg_type"] == "execute_input":
            break
    km.interrupt_kernel()
    print("INTERRUPTED after execute_input", m["content"]["execution_count"])
    for get, name in ((kc.get_iopub_msg, "iopub"), (kc.get_shell_msg, "shell")):
        try:
            while True:
                m = get(timeout=10)
                if m["parent_header"].get("msg_id") == mid:
                    c = m["content"]
                    print(name, m["msg_type"], c.get("execution_state", c.get("status", "")), c.get("ename", ""))
        except queue.Empty:
            print(name, "nothing more for 10 s")
    r = kc.execute_interactive("1+1", timeout=30)
    print("NEXT", r["content"]["status"], r["content"]["execution_count"])
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)

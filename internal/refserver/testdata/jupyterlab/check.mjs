// JupyterLab's own client (@jupyterlab/services' KernelConnection) runs
// code on a Jupyter server and prints what it saw as one JSON object.
// internal/refserver/jupyterlab_test.go runs it against the reference
// server:
//
//   NBSERV_URL=http://127.0.0.1:PORT/ NBSERV_TOKEN=... node check.mjs
import { KernelManager, ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';

const baseUrl = process.env.NBSERV_URL;
const settings = ServerConnection.makeSettings({
  baseUrl,
  wsUrl: baseUrl.replace(/^http/, 'ws'),
  token: process.env.NBSERV_TOKEN,
  WebSocket,
});
const report = { subprotocol: null, executions: [], statuses: [] };

function run(kernel, code, onStdin, onStarted) {
  const future = kernel.requestExecute({ code, allow_stdin: !!onStdin });
  const seen = { code, iopub: [], stdin: [] };
  future.onIOPub = (msg) => {
    if (msg.header.msg_type !== 'status') {
      seen.iopub.push({ type: msg.header.msg_type, content: msg.content });
    }
    if (msg.header.msg_type === 'execute_input' && onStarted) {
      onStarted();
    }
  };
  future.onStdin = (msg) => {
    seen.stdin.push(msg.content);
    kernel.sendInputReply({ status: 'ok', value: onStdin(msg.content.prompt) }, msg.header);
  };
  return future.done.then(
    (reply) => { seen.reply = reply.content; report.executions.push(seen); return seen; },
    (err) => { seen.failed = String(err); report.executions.push(seen); return seen; },
  );
}

const manager = new KernelManager({ serverSettings: settings });
try {
  await manager.ready;
  const kernel = await manager.startNew({ name: 'python3' });
  kernel.statusChanged.connect((_, status) => report.statuses.push(status));
  const info = await kernel.info;
  report.language = info.language_info.name;
  report.protocol = info.protocol_version;
  report.subprotocol = kernel._ws ? kernel._ws.protocol : null;

  await run(kernel, 'print("hello")\n1+1');
  await run(kernel, 'raise ValueError("boom")');
  await run(kernel, 'input("name? ")', (prompt) => 'Ann');
  // State: a variable set from input() is read by the next cell, one set
  // on this connection is read on a second connection to the kernel, and
  // a restart clears it.
  await run(kernel, 'name = input("who? ")', (prompt) => 'Ada');
  await run(kernel, 'print("hello " + name)');
  await run(kernel, 'probe_x = 41');
  const second = manager.connectTo({ model: kernel.model });
  await run(second, 'probe_x + 1');
  second.dispose();
  await run(kernel, "probe_marker = 1\n'probe_marker' in globals()");
  // Interrupt a sleep once it is running.
  let started;
  const running = new Promise((resolve) => { started = resolve; });
  const sleeping = run(kernel, 'import time\ntime.sleep(60)', null, started);
  await running;
  await kernel.interrupt();
  await sleeping;
  await kernel.restart();
  await run(kernel, "'probe_marker' in globals()");
  await run(kernel, '6*7');
  await kernel.shutdown();
  report.ok = true;
} catch (err) {
  report.ok = false;
  report.error = String(err && err.stack || err);
}
manager.dispose();
console.log(JSON.stringify(report));
process.exit(0);

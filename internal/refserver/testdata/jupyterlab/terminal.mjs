// JupyterLab's own terminal client (@jupyterlab/services' TerminalConnection,
// which JupyterLab's terminal panel uses) runs commands in a terminal and
// prints what it saw as one JSON object. internal/refserver/terminals_ws_test.go
// runs it against the reference server:
//
//   NBSERV_URL=http://127.0.0.1:PORT/ NBSERV_TOKEN=... node terminal.mjs
import { PageConfig } from '@jupyterlab/coreutils';
import { TerminalManager, ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';

// JupyterLab's page tells its client that the server has terminals.
PageConfig.setOption('terminalsAvailable', 'true');

const baseUrl = process.env.NBSERV_URL;
const settings = ServerConnection.makeSettings({
  baseUrl,
  wsUrl: baseUrl.replace(/^http/, 'ws'),
  token: process.env.NBSERV_TOKEN,
  WebSocket,
});
const report = { statuses: [], types: [], output: '' };

const manager = new TerminalManager({ serverSettings: settings });
try {
  await manager.ready;
  const term = await manager.startNew();
  report.name = term.name;
  term.connectionStatusChanged.connect((_, status) => report.statuses.push(status));
  let seen = () => {};
  term.messageReceived.connect((_, msg) => {
    report.types.push(msg.type);
    if (msg.type === 'stdout') {
      report.output += msg.content[0];
    }
    seen();
  });
  // Waits until the output contains text, or the end of 30 s.
  const waitFor = (text) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(report.output)}`)), 30000);
    seen = () => {
      if (report.output.includes(text)) {
        clearTimeout(timer);
        seen = () => {};
        resolve();
      }
    };
    seen();
  });
  await waitFor('$ ');
  term.send({ type: 'set_size', content: [33, 101, 500, 800] });
  term.send({ type: 'stdin', content: ['stty size\r'] });
  await waitFor('33 101');
  term.send({ type: 'stdin', content: ["echo 'from''-lab'\r"] });
  await waitFor('from-lab\r\n');
  report.connection = term.connectionStatus;
  await term.shutdown();
  report.listed = (await manager.requestRunning(), Array.from(manager.running()).map((m) => m.name));
} catch (err) {
  report.error = String(err && err.stack || err);
}
manager.dispose();
console.log(JSON.stringify(report));
process.exit(0);

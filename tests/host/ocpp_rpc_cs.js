// A second, independent Central System for the OCPP tests: `ocpp-rpc` (npm, installed by dev.sh into
// out/ocpp-rpc) in strict mode, which validates every CALL and CALLRESULT in both directions against the
// OCPP 1.6 JSON schemas on its own. Driven by tests/host/ocpprpckit.py with lines of JSON:
//   stdout: {"event":"listening","port":N}, {"event":"connected",...}, {"event":"call",...} for every CALL
//           the charge point sends, {"event":"invalid",...} for every strict validation failure,
//           {"event":"answer","id":..,"result":..} / {"event":"answer","id":..,"error":..} to a stdin call
//   stdin:  {"id":..,"method":..,"params":..} a CALL to the charge point; {"set":"boot","value":[..]} the
//           next BootNotification statuses (then Accepted)
// Usage: node ocpp_rpc_cs.js <node_modules dir> [user] [key]
'use strict';

const path = require('path');
const readline = require('readline');
const { RPCServer } = require(path.join(process.argv[2], 'ocpp-rpc'));

const user = process.argv[3] || '';
const key = process.argv[4] || '';
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const now = () => new Date().toISOString();

let client = null;
let txId = 2001;
let boot = [];

const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });

server.auth((accept, reject, handshake) => {
    // Security profile 1: the identity is the user, the password the key (ocpp-rpc checks the user).
    if (user || key) {
        const password = handshake.password ? handshake.password.toString() : undefined;
        if (handshake.identity !== user || password !== key) {
            reject(401, 'bad credentials');
            return;
        }
    }
    accept();
});

server.on('client', (cli) => {
    client = cli;
    emit({ event: 'connected', identity: cli.identity, protocol: cli.protocol, endpoint: cli.handshake.endpoint });
    cli.on('strictValidationFailure', (e) => {
        emit({
            event: 'invalid', method: e.method, outbound: e.outbound, isCall: e.isCall,
            error: String(e.error && e.error.message), details: e.error && e.error.details,
            params: e.params, result: e.result,
        });
    });
    cli.on('call', (c) => {
        if (!c.outbound) {
            emit({ event: 'call', messageId: c.payload[1], method: c.payload[2], params: c.payload[3] });
        }
    });
    cli.on('close', () => {
        if (client === cli) client = null;
        emit({ event: 'closed' });
    });
    const accepted = { idTagInfo: { status: 'Accepted' } };
    cli.handle('BootNotification', () => ({
        status: boot.length ? boot.shift() : 'Accepted', interval: 300, currentTime: now(),
    }));
    cli.handle('Heartbeat', () => ({ currentTime: now() }));
    cli.handle('StatusNotification', () => ({}));
    cli.handle('Authorize', () => accepted);
    cli.handle('StartTransaction', () => ({ transactionId: txId++, ...accepted }));
    cli.handle('StopTransaction', () => accepted);
    cli.handle('MeterValues', () => ({}));
    cli.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
    cli.handle('FirmwareStatusNotification', () => ({}));
    cli.handle('DiagnosticsStatusNotification', () => ({}));
});

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
    const cmd = JSON.parse(line);
    if (cmd.set === 'boot') {
        boot = cmd.value;
        return;
    }
    if (!client) {
        emit({ event: 'answer', id: cmd.id, error: { code: 'NoClient', message: 'no charge point connected' } });
        return;
    }
    try {
        const result = await client.call(cmd.method, cmd.params);
        emit({ event: 'answer', id: cmd.id, result });
    } catch (e) {
        emit({ event: 'answer', id: cmd.id, error: { code: e.rpcErrorCode || e.name, message: e.message, details: e.details } });
    }
});
process.stdin.on('end', () => server.close().then(() => process.exit(0)));

server.listen(0, '127.0.0.1').then((http) => emit({ event: 'listening', port: http.address().port }));

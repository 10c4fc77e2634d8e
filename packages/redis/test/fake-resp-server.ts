// A tiny RESP server on a loopback port that answers every command through `reply`: a stand-in for a broken proxy
// or server, to see what the backend makes of replies the protocol never gives. Normal behaviour is tested against
// real Redis; this is only for replies no real Redis sends.
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

/** Raw RESP for one command (its arguments, upper-cased name first), or undefined for the default `+OK`. */
export type Responder = (args: string[]) => string | undefined;

/** Parses complete RESP arrays of bulk strings off the front of `buffer`; returns them and the rest. */
function parseCommands(buffer: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    const start = at;
    const line = (): string | undefined => {
      const end = buffer.indexOf('\r\n', at);
      if (end < 0) return undefined;
      const text = buffer.toString('latin1', at, end);
      at = end + 2;
      return text;
    };
    const header = line();
    if (header === undefined || !header.startsWith('*')) return { commands, rest: buffer.subarray(start) };
    const count = Number(header.slice(1));
    const args: string[] = [];
    for (let i = 0; i < count; i++) {
      const size = line();
      if (size === undefined || at + Number(size.slice(1)) + 2 > buffer.length) {
        return { commands, rest: buffer.subarray(start) };
      }
      const length = Number(size.slice(1));
      args.push(buffer.toString('latin1', at, at + length));
      at += length + 2;
    }
    args[0] = (args[0] ?? '').toUpperCase();
    commands.push(args);
  }
}

/** Starts the server on `127.0.0.1:<a free port>`; `reply` may be swapped between tests. */
export async function fakeRespServer(reply: Responder): Promise<{
  url: string;
  setReply(next: Responder): void;
  close(): Promise<void>;
}> {
  let current = reply;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      const { commands, rest } = parseCommands(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const args of commands) {
        socket.write(current(args) ?? '+OK\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    setReply(next) {
      current = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

// The ceiling for one Node.js process: a bare node:http server that answers each
// benchmarked request with the bytes the real server sends, precomputed — no
// routing, no crypto, no database. Usage: node bench/reference.mjs PORT ANSWERS.json
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [port, file] = process.argv.slice(2);
const answers = new Map(
  JSON.parse(readFileSync(file, 'utf8')).map(({ method, url, status, headers, body }) => [
    `${method} ${url}`,
    { status, headers: { ...headers, 'content-length': Buffer.byteLength(body) }, body: Buffer.from(body) },
  ]),
);
const missing = { status: 404, headers: { 'content-type': 'application/json' }, body: Buffer.from('{}') };

http
  .createServer((req, res) => {
    const answer = answers.get(`${req.method} ${req.url}`) ?? missing;
    // Drain the request body, as a real server must, before answering.
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    });
  })
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));

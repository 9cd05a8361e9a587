// A partner that verifies Spotnana's signature over JSON.stringify(JSON.parse(body))
// (what `express.json()` followed by `JSON.stringify(req.body)` computes) instead of
// the raw body. Usage: node reserializer.js CERT KEY; the secret comes from
// SPOTNANA_WEBHOOK_SECRET. Prints the port it listens on (127.0.0.1, HTTPS), then
// answers 200 to a delivery that verifies and 401 to one that does not.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');

const [cert, key] = process.argv.slice(2);
const secret = process.env.SPOTNANA_WEBHOOK_SECRET;
const keyBytes = Buffer.from(secret.slice('whsec_'.length), 'base64');

function verifies(headers, raw) {
  const id = headers['x-spotnana-webhook-id'] || '';
  const timestamp = headers['x-spotnana-webhook-timestamp'] || '';
  const header = headers['x-spotnana-webhook-signature'] || '';
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  let body;
  try {
    body = JSON.stringify(JSON.parse(raw.toString('utf8')));
  } catch (e) {
    return false;
  }
  const expected = crypto
    .createHmac('sha256', keyBytes)
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
  return header.split(' ').some((t) => t.replace(/^v1,/, '') === expected);
}

const server = https.createServer(
  { cert: fs.readFileSync(cert), key: fs.readFileSync(key) },
  (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(verifies(req.headers, Buffer.concat(chunks)) ? 200 : 401, {
        'content-length': '0',
      });
      res.end();
    });
  },
);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));

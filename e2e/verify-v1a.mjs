// Verifies a Standard Webhooks v1a (Ed25519) signature as a receiver in
// Node does, with Node's own crypto and the key taken from a JWKS: reads
// {jwks, headers, body} as JSON on stdin, prints "ok <kid>" and exits 0
// when one v1a signature verifies with the key webhook-key-id names.
// Run by TestV1aVerifiedByNode (api).
import { createPublicKey, verify } from "node:crypto";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { jwks, headers, body } = JSON.parse(input);
const content = Buffer.from(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`);
const sigs = headers["webhook-signature"].split(" ").filter((s) => s.startsWith("v1a,")).map((s) => Buffer.from(s.slice(4), "base64"));
const kids = (headers["webhook-key-id"] || "").split(" ");
for (const [i, kid] of kids.entries()) {
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) continue;
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  if (sigs[i] && verify(null, content, key, sigs[i])) {
    console.log(`ok ${kid}`);
    process.exit(0);
  }
}
console.error("no v1a signature verifies with the JWKS");
process.exit(1);

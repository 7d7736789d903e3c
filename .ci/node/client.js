#!/usr/bin/env node
// Drives codeset's /fhir operations with an independent FHIR client
// library, fhir-kit-client, the way a downstream system would.
// Usage: node client.js BASE_URL CALLS_JSON
// CALLS_JSON is a JSON array of {name, op, resourceType, method, input}
// where op is an operation name ($lookup ...) or "capabilities". Prints
// one JSON object {name: resource or {error: ...}}.
'use strict';
async function main() {
  // fhir-kit-client 2 is an ES module.
  const { Client } = await import('fhir-kit-client');
  const [baseUrl, callsJSON] = process.argv.slice(2);
  const client = new Client({ baseUrl });
  const out = {};
  for (const c of JSON.parse(callsJSON)) {
    try {
      if (c.op === 'capabilities') {
        out[c.name] = await client.capabilityStatement();
      } else {
        out[c.name] = await client.operation({ name: c.op, resourceType: c.resourceType, method: c.method || 'GET', input: c.input });
      }
    } catch (e) {
      out[c.name] = { error: String(e && e.message || e), status: e && e.response && e.response.status, body: e && e.response && e.response.data };
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });

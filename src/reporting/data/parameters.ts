import type { FieldError } from '../../common/errors/app.exception';
import type { ParamSpec } from './data-sources';

/** A parameter value as stored with a run: strings for decimals, ids and times; numbers for integers. */
export type ParamValue = string | number;
export type ParamValues = Record<string, ParamValue>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^-?[0-9]{1,12}(\.[0-9]{1,8})?$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Checks parameters against their declaration: unknown names, missing required ones and values of
 * the wrong type are field errors (`parameters.<name>`). Times come back as ISO 8601 UTC.
 * Pure.
 */
export function validateParameters(specs: ParamSpec[], input: unknown): { values: ParamValues; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const values: ParamValues = {};
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    return { values, errors: [{ field: 'parameters', message: 'parameters must be an object' }] };
  }
  const given = input as Record<string, unknown>;
  const known = new Map(specs.map((s) => [s.name, s]));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) errors.push({ field: `parameters.${name}`, message: `unknown parameter ${name}` });
  }
  for (const spec of specs) {
    const field = `parameters.${spec.name}`;
    const v = given[spec.name];
    if (v === undefined || v === null) {
      if (spec.required) errors.push({ field, message: `${spec.name} is required` });
      continue;
    }
    switch (spec.type) {
      case 'uuid':
        if (typeof v === 'string' && UUID.test(v)) values[spec.name] = v.toLowerCase();
        else errors.push({ field, message: `${spec.name} must be a UUID` });
        break;
      case 'datetime':
        if (typeof v === 'string' && DATETIME.test(v) && !Number.isNaN(Date.parse(v))) {
          values[spec.name] = new Date(v).toISOString();
        } else errors.push({ field, message: `${spec.name} must be an ISO 8601 date-time with a zone` });
        break;
      case 'decimal':
        if (typeof v === 'string' && DECIMAL.test(v)) values[spec.name] = v;
        else errors.push({ field, message: `${spec.name} must be a decimal string, e.g. "0.02"` });
        break;
      case 'integer':
        if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1_000_000) values[spec.name] = v;
        else errors.push({ field, message: `${spec.name} must be an integer from 0 to 1000000` });
        break;
      case 'string':
        if (typeof v === 'string' && v.length <= 500) values[spec.name] = v;
        else errors.push({ field, message: `${spec.name} must be a string of at most 500 characters` });
        break;
    }
  }
  return { values, errors };
}

/** JSON with keys sorted at every level: the same parameters always give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

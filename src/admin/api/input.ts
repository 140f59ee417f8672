import { type FieldProblem, invalidFields } from './errors.js';

/**
 * The subset of JSON Schema (2020-12, as OpenAPI 3.1 uses it) the admin API's bodies and queries are written in.
 * One schema both validates a request (`checkBody`, `checkQuery`) and documents it (openapi.ts), so the two
 * cannot disagree. Fastify's own validator is not used: its defaults drop unknown fields silently
 * (removeAdditional) and coerce types, where this API refuses both, naming each field at fault.
 */
export type Schema = {
  type?: SchemaType | SchemaType[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: false;
  items?: Schema;
  enum?: readonly (string | null)[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  example?: unknown;
  readOnly?: boolean;
  $ref?: string;
};
type SchemaType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'null';

/** An object schema, closed: every field not listed is refused. */
export const object = (
  properties: Record<string, Schema>,
  required: readonly string[] = [],
  description?: string,
): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
  ...(required.length > 0 ? { required } : {}),
  additionalProperties: false,
});

const typeOf = (value: unknown): SchemaType => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as SchemaType;
};

const describeTypes = (types: SchemaType[]): string =>
  types
    .map((t) => (t === 'null' ? 'null' : t === 'integer' ? 'an integer' : `a${/^[aeiou]/.test(t) ? 'n' : ''} ${t}`))
    .join(' or ');

/** Every problem of `value` against `schema`, each named by its path (`policy.redirect_uris[2]`). */
export function problemsOf(value: unknown, schema: Schema, path: string): FieldProblem[] {
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const actual = typeOf(value);
  const fits = types.length === 0 || types.includes(actual) || (actual === 'integer' && types.includes('number'));
  if (!fits) return [{ field: path, problem: `must be ${describeTypes(types)}` }];
  if (schema.enum && !schema.enum.includes(value as string | null)) {
    return [{ field: path, problem: `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}` }];
  }
  if (typeof value === 'string') return stringProblems(value, schema, path);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      return [{ field: path, problem: `must be at least ${schema.minimum}` }];
    if (schema.maximum !== undefined && value > schema.maximum)
      return [{ field: path, problem: `must be at most ${schema.maximum}` }];
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      return [{ field: path, problem: `must have at most ${schema.maxItems} items` }];
    }
    return schema.items ? value.flatMap((item, i) => problemsOf(item, schema.items!, `${path}[${i}]`)) : [];
  }
  if (actual === 'object') return objectProblems(value as Record<string, unknown>, schema, path);
  return [];
}

function stringProblems(value: string, schema: Schema, path: string): FieldProblem[] {
  // No name, id, URI or search holds U+0000, and PostgreSQL cannot store it in text: refused on every store.
  if (value.includes('\u0000')) return [{ field: path, problem: 'must not contain a NUL character' }];
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength) {
    return [
      {
        field: path,
        problem: schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`,
      },
    ];
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    return [{ field: path, problem: `must be at most ${schema.maxLength} characters` }];
  }
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
    return [{ field: path, problem: `must match ${schema.pattern}` }];
  }
  return [];
}

function objectProblems(value: Record<string, unknown>, schema: Schema, path: string): FieldProblem[] {
  const at = (name: string) => (path === '' ? name : `${path}.${name}`);
  const properties = schema.properties ?? {};
  const problems: FieldProblem[] = [];
  for (const name of Object.keys(value)) {
    const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
    if (property === undefined) {
      if (schema.additionalProperties === false) problems.push({ field: at(name), problem: 'unknown field' });
    } else problems.push(...problemsOf(value[name], property, at(name)));
  }
  for (const name of schema.required ?? []) {
    if (!Object.hasOwn(value, name)) problems.push({ field: at(name), problem: 'is required' });
  }
  return problems;
}

/** The request body checked against `schema` (no body: an empty object); a 400 naming every field at fault. */
export function checkBody(body: unknown, schema: Schema): Record<string, unknown> {
  const value = body === undefined ? {} : body;
  if (typeOf(value) !== 'object') {
    throw invalidFields(
      [{ field: 'body', problem: 'must be a JSON object' }],
      'The request body must be a JSON object.',
    );
  }
  const problems = problemsOf(value, schema, '');
  if (problems.length > 0) throw invalidFields(problems);
  return value as Record<string, unknown>;
}

/**
 * The URL query checked against `schema`: each parameter at most once, none unknown; `integer` parameters are
 * read as whole decimal numbers. A 400 naming every parameter at fault.
 */
export function checkQuery(query: Record<string, unknown>, schema: Schema): Record<string, unknown> {
  const properties = schema.properties ?? {};
  const problems: FieldProblem[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(query)) {
    const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
    if (property === undefined) problems.push({ field: name, problem: 'unknown query parameter' });
    else if (typeof raw !== 'string') problems.push({ field: name, problem: 'must be given once' });
    else if (property.type === 'integer') {
      if (!/^\d{1,15}$/.test(raw)) problems.push({ field: name, problem: 'must be a whole number' });
      else {
        values[name] = Number(raw);
        problems.push(...problemsOf(values[name], property, name));
      }
    } else {
      values[name] = raw;
      problems.push(...problemsOf(raw, property, name));
    }
  }
  if (problems.length > 0) throw invalidFields(problems);
  return values;
}

/**
 * A strict `application/json` body parser: bytes that are not UTF-8, or text that is not JSON, are a 400 naming
 * the body; an empty body is no body.
 */
export function jsonBodyParser() {
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return (_request: unknown, body: Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      done(invalidFields([{ field: 'body', problem: 'is not valid UTF-8' }], 'The request body is not valid UTF-8.'));
      return;
    }
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(invalidFields([{ field: 'body', problem: 'is not valid JSON' }], 'The request body is not valid JSON.'));
    }
  };
}
